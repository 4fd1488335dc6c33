#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "bounce.h"
#include "date822.h"
#include "queue.h"
#include "state.h"
#include "utf8.h"

/* RFC 5322 2.1.1: at most 998 characters a line, the line end excluded */
#define DSN_LINE_MAX 998
/* the original Subject quoted in ours */
#define SUBJECT_MAX 200
/* recipients the human-readable part lists; the report lists them all */
#define TEXT_RCPTS_MAX 100
/* "5.999.999" and its NUL */
#define STATUS_MAX 10
/* ends the pieces of a line() */
#define END ((char const *)0)

static char const intro[] =
  "\nYour message could not be delivered to these recipients.\n"
  "This is a permanent error: it will not be retried.\n\n" ;
static char const intro_double[] =
  "\nA failure notice had no return address. The message it reported on\n"
  "could not be delivered to these recipients:\n\n" ;

/* appends one line made of the NUL-terminated pieces (the list ends with
   a null pointer): bytes outside printable ASCII become '?', and the line
   is cut at DSN_LINE_MAX */
static int line (stralloc *sa, ...)
{
  size_t start = sa->len ;
  char const *p ;
  va_list ap ;
  va_start(ap, sa) ;
  while ((p = va_arg(ap, char const *)))
  {
    size_t n = strlen(p) ;
    if (!stralloc_readyplus(sa, n)) { va_end(ap) ; return 0 ; }
    for (size_t i = 0 ; i < n ; i++)
    {
      unsigned char c = (unsigned char)p[i] ;
      sa->s[sa->len++] = c == '\t' ? ' ' : c >= 32 && c < 127 ? (char)c : '?' ;
    }
  }
  va_end(ap) ;
  if (sa->len - start > DSN_LINE_MAX) sa->len = start + DSN_LINE_MAX ;
  return stralloc_catb(sa, "\n", 1) ;
}

/* the first Subject of the original headers, unfolded, cut, into s */
static void subject (char *s, char const *h, size_t len)
{
  size_t i = 0, n = 0 ;
  while (i < len)
  {
    char const *eol = memchr(h + i, '\n', len - i) ;
    size_t end = eol ? (size_t)(eol - h) : len ;
    if (end - i >= 8 && !strncasecmp(h + i, "subject:", 8))
    {
      for (i += 8 ; i < len && (h[i] == ' ' || h[i] == '\t') ; i++) ;
      for (; i < len && n < SUBJECT_MAX ; i++)
      {
        if (h[i] != '\n') s[n++] = h[i] ;
        else if (i + 1 >= len || (h[i+1] != ' ' && h[i+1] != '\t')) break ;
      }
      break ;
    }
    i = end + 1 ;
  }
  while (n && (s[n-1] == ' ' || s[n-1] == '\t')) n-- ;
  s[n] = 0 ;
}

/* an RFC 3463 status class.subject.detail at t, followed by a space or
   the end: copied to out, 1; else 0 */
static int status_at (char *out, char const *t, size_t len)
{
  size_t i = 1 ;
  if (!len || (t[0] != '4' && t[0] != '5')) return 0 ;
  for (unsigned int part = 0 ; part < 2 ; part++)
  {
    size_t n = 0 ;
    if (i >= len || t[i++] != '.') return 0 ;
    while (i + n < len && t[i + n] >= '0' && t[i + n] <= '9') n++ ;
    if (!n || n > 3) return 0 ;
    i += n ;
  }
  if (i < len && t[i] != ' ') return 0 ;
  memcpy(out, t, i) ;
  out[i] = 0 ;
  return 1 ;
}

/* remote(8)'s "host[ip] said: 550 5.1.1 text (in reply to ...)": the
   server's reply, or 0 */
static char const *server_reply (char const *t, size_t len, size_t *rlen)
{
  char const *p = memmem(t, len, " said: ", 7) ;
  if (!p) return 0 ;
  p += 7 ;
  *rlen = len - (size_t)(p - t) ;
  if (*rlen < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9') return 0 ;
  return p ;
}

/* RFC 3463 status: one at the text's start (a 5.x.y as is; a 4.x.y text
   is a temporary failure that outlived the queue lifetime, 5.4.7); else
   the server's enhanced code in its reply, else 5.0.0 */
static void status (char *out, char const *t, size_t len)
{
  size_t rlen ;
  char const *reply ;
  if (status_at(out, t, len))
  {
    if (t[0] == '4') memcpy(out, "5.4.7", 6) ;
    return ;
  }
  memcpy(out, "5.0.0", 6) ;
  reply = server_reply(t, len, &rlen) ;
  if (reply && rlen > 4 && reply[0] == '5' && (reply[3] == ' ' || reply[3] == '-'))
    if (!status_at(out, reply + 4, rlen - 4) || out[0] != '5') memcpy(out, "5.0.0", 6) ;
}

static void result (char *t, state_rcpt const *r)
{
  size_t n = state_result_len(r) ;
  if (!n) { memcpy(t, "no reason recorded", 19) ; return ; }
  memcpy(t, r->result, n) ;
  t[n] = 0 ;
}

static int text_part (stralloc *sa, bounce_info const *b)
{
  char t[STATE_RESULT_MAX + 1] ;
  char num[UINT_FMT] ;
  unsigned int n = 0 ;
  size_t pos = b->m->rcpts_at ;
  state_rcpt r ;
  if (!line(sa, "This is the postern mail system at ", b->me, ".", END)
   || !stralloc_cats(sa, b->isdouble ? intro_double : intro)) return 0 ;
  while (state_next_rcpt(b->m, b->state, &pos, &r))
  {
    if (r.status != ST_FAILED || n++ >= TEXT_RCPTS_MAX) continue ;
    result(t, &r) ;
    if (!line(sa, "<", r.addr, ">:", END) || !line(sa, t, END)
     || !line(sa, "", END)) return 0 ;
  }
  if (n > TEXT_RCPTS_MAX)
  {
    num[uint_fmt(num, n - TEXT_RCPTS_MAX)] = 0 ;
    if (!line(sa, "... and ", num, " more, listed in the delivery report.", END)
     || !line(sa, "", END)) return 0 ;
  }
  if (!line(sa, "The delivery report and the headers of the message follow.", END)) return 0 ;
  if (b->headerscut)
  {
    num[uint_fmt(num, BOUNCE_HEADERS_MAX)] = 0 ;
    if (!line(sa, "The headers are cut at ", num, " bytes.", END)) return 0 ;
  }
  return 1 ;
}

/* RFC 6533 3: a UTF-8 address (RFC 6531) as "utf-8; " utf-8-addr-xtext,
   which message/delivery-status can carry: each code point past ASCII,
   and '+', '=', '\\', as \x{HEX}, uppercase, no leading zero. An address
   that is not well-formed UTF-8 stays rfc822, its 8-bit bytes made '?'. */
static int final_recipient (stralloc *sa, char const *a)
{
  /* "\x{10FFFF}" is 10 characters; line() cuts the line anyway */
  char x[ADDR_MAX * 10 + 1] ;
  size_t len = strlen(a), n = 0 ;
  if (len > ADDR_MAX || !utf8_any(a, len) || !utf8_valid(a, len))
    return line(sa, "Final-Recipient: rfc822; ", a, END) ;
  for (size_t i = 0 ; i < len ;)
  {
    unsigned char c = (unsigned char)a[i] ;
    unsigned long cp = c ;
    size_t k = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3 ;
    char hex[8] ;
    size_t h = 0 ;
    if (k) cp &= 0x3f >> k ;
    for (size_t j = 1 ; j <= k ; j++) cp = cp << 6 | ((unsigned char)a[i + j] & 0x3f) ;
    i += k + 1 ;
    if (!k && c > ' ' && c != '+' && c != '=' && c != '\\') { x[n++] = (char)c ; continue ; }
    do { hex[h++] = "0123456789ABCDEF"[cp & 15] ; cp >>= 4 ; } while (cp) ;
    if (h < 2) hex[h++] = '0' ;
    memcpy(x + n, "\\x{", 3) ; n += 3 ;
    while (h) x[n++] = hex[--h] ;
    x[n++] = '}' ;
  }
  x[n] = 0 ;
  return line(sa, "Final-Recipient: utf-8; ", x, END) ;
}

static int report_part (stralloc *sa, bounce_info const *b)
{
  char date[DATE822_FMT], t[STATE_RESULT_MAX + 1], st[STATUS_MAX] ;
  size_t pos = b->m->rcpts_at, rlen ;
  state_rcpt r ;
  date822_fmt(date, b->arrival) ;
  if (!line(sa, "Reporting-MTA: dns; ", b->me, END)
   || !line(sa, "Arrival-Date: ", date, END)) return 0 ;
  while (state_next_rcpt(b->m, b->state, &pos, &r))
  {
    if (r.status != ST_FAILED) continue ;
    result(t, &r) ;
    status(st, r.result, state_result_len(&r)) ;
    if (!line(sa, "", END) || !final_recipient(sa, r.addr)
     || !line(sa, "Action: failed", END) || !line(sa, "Status: ", st, END)
     || !line(sa, "Diagnostic-Code: ", server_reply(t, strlen(t), &rlen) ? "smtp; " : "x-postern; ", t, END)) return 0 ;
    if (!r.lasttry) continue ;
    date822_fmt(date, (time_t)r.lasttry) ;
    if (!line(sa, "Last-Attempt-Date: ", date, END)) return 0 ;
  }
  return 1 ;
}

/* the original headers as they are, but no line over DSN_LINE_MAX */
static int headers_part (stralloc *sa, bounce_info const *b)
{
  char const *h = b->headers ;
  size_t i = 0, len = b->headerslen ;
  while (i < len)
  {
    char const *eol = memchr(h + i, '\n', len - i) ;
    size_t n = (eol ? (size_t)(eol - h) : len) - i ;
    if (!stralloc_catb(sa, h + i, n > DSN_LINE_MAX ? DSN_LINE_MAX : n)
     || !stralloc_catb(sa, "\n", 1)) return 0 ;
    i += n + 1 ;
  }
  return 1 ;
}

static int contains (stralloc const *sa, char const *s)
{
  return !!memmem(sa->s, sa->len, s, strlen(s)) ;
}

int bounce_compose (stralloc *out, bounce_info const *b)
{
  stralloc parts[3] = { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO } ;
  static char const *const types[3] =
  {
    "text/plain; charset=us-ascii", "message/delivery-status", "text/rfc822-headers"
  } ;
  char bnd[sizeof "postern-" + QUEUE_ID_MAX + 1 + UINT_FMT] ;
  char subj[SUBJECT_MAX + 1], date[DATE822_FMT] ;
  size_t n ;
  int ok = 0 ;
  if (!text_part(&parts[0], b) || !report_part(&parts[1], b) || !headers_part(&parts[2], b))
    goto end ;
  /* the id makes it unique; a suffix if the quoted text holds it anyway
     (ends: each candidate found is a different string within the parts) */
  n = strlen(b->id) ;
  memcpy(bnd, "postern-", 8) ;
  memcpy(bnd + 8, b->id, n + 1) ;
  for (unsigned int k = 1 ; contains(&parts[0], bnd) || contains(&parts[1], bnd) || contains(&parts[2], bnd) ; k++)
  {
    bnd[8 + n] = '.' ;
    bnd[9 + n + uint_fmt(bnd + 9 + n, k)] = 0 ;
  }
  subject(subj, b->headers, b->headerslen) ;
  date822_fmt(date, b->now) ;
  if (!line(out, "From: MAILER-DAEMON@", b->me, END)
   || !line(out, "To: <", b->to, ">", END)
   || !line(out, "Subject: failure notice", subj[0] ? ": " : "", subj, END)
   || !line(out, "Date: ", date, END)
   || !line(out, "Message-ID: <", b->id, ".bounce@", b->me, ">", END)
   || !stralloc_cats(out, "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
                          "Content-Type: multipart/report; report-type=delivery-status;\n")
   || !line(out, " boundary=\"", bnd, "\"", END)
   || !stralloc_cats(out, "\nThis is a delivery status notification in MIME format.\n"))
    goto end ;
  for (unsigned int i = 0 ; i < 3 ; i++)
    if (!line(out, "", END) || !line(out, "--", bnd, END)
     || !line(out, "Content-Type: ", types[i], END) || !line(out, "", END)
     || !stralloc_catb(out, parts[i].s, parts[i].len)) goto end ;
  if (!line(out, "", END) || !line(out, "--", bnd, "--", END)) goto end ;
  ok = 1 ;
 end:
  for (unsigned int i = 0 ; i < 3 ; i++) stralloc_free(&parts[i]) ;
  return ok ;
}
