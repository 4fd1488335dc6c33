/* DATA: the message goes to queue-writer or queue-inject as it arrives (CR LF made LF,
   dots unstuffed, our Received line first), through one fixed buffer;
   when its DKIM signatures are checked (control/authresults), it is
   held in memory first, up to control/dkimbytes, because the
   Authentication-Results field saying how they fared goes above it.
   Only CR LF "." CR LF ends it. A message found bad is refused whole:
   queue-inject is stopped at once (it gets no envelope, so it queues
   nothing), and the rest of the message is read and dropped. */

#include <errno.h>
#include <string.h>
#include <time.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "date822.h"
#include "qexit.h"
#include "qinject.h"
#include "smtpd.h"
#include "trace.h"

/* bytes handed to queue-inject per write */
#define QBUF_MAX 16384

/* TCPREMOTEIP as written into the Received line (an IPv6 one is 45) */
#define IP_MAX 64

enum dstate { D_BOL, D_TEXT, D_CR, D_DOT, D_DOTCR } ;

/* why a message is refused, by priority */
#define BAD_SIZE 1
#define BAD_BARE 2
#define BAD_NUL 4
#define BAD_LONG 8
#define BAD_INJECT 16  /* queue-inject is gone: its exit code says why */
#define BAD_HOPS 32    /* a loop: more Received: and Delivered-To: than maxhops */
#define BAD_MEM 64

/* memory kept between messages for the next one held */
#define HELD_KEEP 262144

static char qbuf[QBUF_MAX] ;
static size_t qlen ;
static qinject q ;
static int running ;
static unsigned int bad ;
static unsigned long total ;
static int code ;
/* the header section, as queued: our Received line, then the client's */
static int inheader ;
static char field[13] ;  /* the current line's first bytes: a trace field name */
static size_t fieldlen ;
static unsigned long hops ;
/* our Authentication-Results field, first in the header */
static stralloc authres = STRALLOC_ZERO ;
/* the client's header goes through smtpd_arfilter: checks are on */
static int filtering ;
/* the message as queued, held until its signatures are checked; our
   Received line is its first recvlen bytes */
static stralloc held = STRALLOC_ZERO ;
static int holding ;
static size_t recvlen ;

static void stop (void)
{
  if (!running) return ;
  running = 0 ;
  code = qinject_finish(&q, 0, 0) ;
}

static void refuse (unsigned int why)
{
  bad |= why ;
  stop() ;
}

/* Counts the trace fields of the header section as it streams by (a
   line may come in pieces); the empty line ends the count. As
   qmail-smtpd and Postfix do, a message that went round a loop (an MX
   pointing back here, forwards between two hosts) is refused here
   instead of circling until local bounces it. */
static void count_hops (char const *s, size_t n)
{
  for (size_t i = 0 ; i < n && inheader ; i++)
  {
    char c = s[i] ;
    if (c != '\n')
    {
      if (fieldlen < sizeof field) field[fieldlen++] = c ;
      continue ;
    }
    if (!fieldlen) inheader = 0 ;
    else if (trace_field(field, fieldlen) != TRACE_NONE) hops++ ;
    fieldlen = 0 ;
  }
  /* queue-inject adds one more: local must not bounce what we took */
  if (hops >= smtpd_config.maxhops) refuse(BAD_HOPS) ;
}

static void qflush (void)
{
  if (running && qlen && qinject_write(&q, qbuf, qlen) < qlen) refuse(BAD_INJECT) ;
  qlen = 0 ;
}

static void qraw (char const *s, size_t n) ;
static void qput (char const *s, size_t n)
{
  if (bad) return ;
  total += n ;
  /* counted as queue-inject counts control/databytes: our Received
     line included, LF line ends, dots unstuffed */
  if (smtpd_config.databytes && total > smtpd_config.databytes) { refuse(BAD_SIZE) ; return ; }
  if (inheader) { count_hops(s, n) ; if (bad) return ; }
  if (filtering) smtpd_arfilter(s, n, &qraw) ;
  else qraw(s, n) ;
}

/* bytes as queued, through qbuf */
static void qbuffer (char const *s, size_t n)
{
  if (bad) return ;
  while (n)
  {
    size_t k = sizeof qbuf - qlen ;
    if (k > n) k = n ;
    memcpy(qbuf + qlen, s, k) ;
    qlen += k ; s += k ; n -= k ;
    if (qlen == sizeof qbuf) qflush() ;
    if (bad) return ;
  }
}

/* the field with the DKIM results first, then what was held; whole:
   the message has all come */
static void release (int whole)
{
  size_t r = recvlen < held.len ? recvlen : held.len ;
  holding = 0 ;
  if (!smtpd_authres_dkim(&authres, held.s + r, held.len - r, whole) || !stralloc_catb(&authres, "\n", 1))
  {
    refuse(BAD_MEM) ;
    return ;
  }
  total += authres.len ;
  if (smtpd_config.databytes && total > smtpd_config.databytes) { refuse(BAD_SIZE) ; return ; }
  qbuffer(authres.s, authres.len) ;
  qbuffer(held.s, held.len) ;
  held.len = 0 ;
}

static void qraw (char const *s, size_t n)
{
  if (bad) return ;
  if (holding)
  {
    if (held.len + n <= smtpd_config.dkimbytes)
    {
      if (!stralloc_catb(&held, s, n)) refuse(BAD_MEM) ;
      return ;
    }
    release(0) ;
  }
  qbuffer(s, n) ;
}

static size_t add (char *d, char const *s)
{
  size_t n = strlen(s) ;
  memcpy(d, s, n) ;
  return n ;
}

/* RFC 3848's protocol names and RFC 6531 3.7.3's; TLS and the login in comments, each on a
   line of its own so that no line passes 998 octets */
static void received (char const *helo, int esmtp)
{
  char line[128 + SMTPD_HELO_MAX + IP_MAX + SMTPD_ME_MAX + DATE822_FMT
    + sizeof smtpd_tls.protocol + sizeof smtpd_tls.cipher + SMTPD_LOGIN_MAX] ;
  size_t n = 0 ;
  n += add(line + n, "Received: from ") ;
  n += add(line + n, helo) ;
  n += add(line + n, " (") ;
  n += smtpd_clean(line + n, IP_MAX, smtpd_config.remoteip, strlen(smtpd_config.remoteip)) ;
  n += add(line + n, ") by ") ;
  n += add(line + n, smtpd_config.me.s) ;
  n += add(line + n, esmtp == 2 ? " with UTF8SMTP" : esmtp ? " with ESMTP" : " with SMTP") ;
  if (smtpd_tls.on) line[n++] = 'S' ;
  if (smtpd_auth_user[0]) line[n++] = 'A' ;
  if (smtpd_tls.on)
  {
    n += add(line + n, "\n\t(") ;
    n += add(line + n, smtpd_tls.protocol) ;
    n += add(line + n, " cipher ") ;
    n += add(line + n, smtpd_tls.cipher) ;
    line[n++] = ')' ;
  }
  if (smtpd_auth_user[0])
  {
    n += add(line + n, "\n\t(authenticated as ") ;
    n += smtpd_clean(line + n, SMTPD_LOGIN_MAX, smtpd_auth_user, strlen(smtpd_auth_user)) ;
    line[n++] = ')' ;
  }
  n += add(line + n, "; ") ;
  n += date822_fmt(line + n, time(0)) ;
  line[n++] = '\n' ;
  qput(line, n) ;
}

/* Reads the message to its end; returns 0 at the end of data, -1 if
   the client is gone. crlf: the DATA line ended with CR LF. */
static int body (int crlf)
{
  enum dstate st = D_BOL ;
  size_t linelen = 0 ;
  smtpd_io_line() ;
  for (;;)
  {
    char *s ;
    size_t n = smtpd_avail(&s), i = 0 ;
    unsigned int lines = 0 ;
    if (!n)
    {
      if (!smtpd_fill()) return -1 ;
      continue ;
    }
    while (i < n)
    {
      char c = s[i] ;
      switch (st)
      {
        case D_BOL :
          linelen = 0 ;
          if (c == '.') { st = D_DOT ; linelen = 1 ; i++ ; continue ; }
          break ;
        case D_CR :
          if (c == '\n') { qput("\n", 1) ; st = D_BOL ; lines++ ; crlf = 1 ; i++ ; continue ; }
          refuse(BAD_BARE) ;
          break ;
        case D_DOT :
          /* the leading dot is dropped (RFC 5321 4.5.2) */
          if (c == '\r') { st = D_DOTCR ; i++ ; continue ; }
          break ;
        case D_DOTCR :
          if (c == '\n')
          {
            if (crlf) { smtpd_consume(i + 1) ; return 0 ; }
            /* after a bare LF a "." line is text, unstuffed like any */
            qput("\n", 1) ; st = D_BOL ; lines++ ; crlf = 1 ; i++ ; continue ;
          }
          refuse(BAD_BARE) ;
          break ;
        default : break ;
      }
      /* inside a line: a run of plain bytes, then one special */
      st = D_TEXT ;
      {
        size_t j = i ;
        while (j < n && s[j] != '\r' && s[j] != '\n' && s[j]) j++ ;
        qput(s + i, j - i) ;
        linelen += j - i ;
        i = j ;
      }
      if (linelen > SMTPD_TEXT_MAX && !(bad & BAD_LONG)) refuse(BAD_LONG) ;
      if (i == n) break ;
      c = s[i++] ;
      if (c == '\r') st = D_CR ;
      /* a bare LF ends the line as CR LF would, but for the end of data */
      else if (c == '\n') { qput("\n", 1) ; st = D_BOL ; lines++ ; crlf = 0 ; }
      else { refuse(BAD_NUL) ; linelen++ ; }
    }
    smtpd_consume(n) ;
    /* each line of text, as each command, must be whole in time */
    if (lines) smtpd_io_line() ;
  }
}

/* what took the message: queue-inject's pid, or the writer's queue id */
static char const *qp (void)
{
  static char fmt[PID_FMT + 1] ;
  if (!q.pid) return q.id ;
  fmt[pid_fmt(fmt, q.pid)] = 0 ;
  return fmt ;
}

static void log_result (char const *what, char const *sender, unsigned int nrcpt)
{
  char fmt[ULONG_FMT] ;
  smtpd_log_start(what) ;
  if (!bad && !code)
  {
    smtpd_log_put(" qp ") ;
    smtpd_log_put(qp()) ;
  }
  smtpd_log_put(" from <") ;
  smtpd_log_str(sender, strlen(sender)) ;
  smtpd_log_put("> rcpts ") ;
  fmt[uint_fmt(fmt, nrcpt)] = 0 ;
  smtpd_log_put(fmt) ;
  smtpd_log_put(" bytes ") ;
  fmt[ulong_fmt(fmt, total)] = 0 ;
  smtpd_log_put(fmt) ;
  smtpd_log_put(smtpd_authres_log()) ;
  if (smtpd_auth_user[0])
  {
    smtpd_log_put(" user <") ;
    smtpd_log_str(smtpd_auth_user, strlen(smtpd_auth_user)) ;
    smtpd_log_put(">") ;
  }
}

void smtpd_data (stralloc *env, unsigned int nrcpt, char const *helo, int esmtp)
{
  char text[SMTPD_REPLY_MAX] ;
  qexit_info const *x ;
  int dkim ;
  qlen = 0 ; bad = 0 ; total = 0 ; code = 0 ;
  inheader = 1 ; fieldlen = 0 ; hops = 0 ;
  if (!stralloc_0(env)) { smtpd_reply("451", "4.3.0", "out of memory") ; return ; }
  /* before queue-inject starts: a check that waits on DNS holds no
     queue-inject meanwhile */
  authres.len = 0 ;
  if (!smtpd_authres(&authres, env->s + 1, helo, &dkim)
   || (authres.len && !dkim && !stralloc_catb(&authres, "\n", 1)))
  {
    smtpd_reply("451", "4.3.0", "out of memory") ;
    return ;
  }
  if (!qinject_start(&q, -1, -1))
  {
    smtpd_log_start("warning") ;
    smtpd_log_put(": unable to start queue-inject: ") ;
    smtpd_log_put(strerror(errno)) ;
    smtpd_log_end() ;
    smtpd_reply("451", "4.3.0", "unable to queue the message now, try later") ;
    return ;
  }
  running = 1 ;
  smtpd_reply("354", 0, "go ahead, end with <CR><LF>.<CR><LF>") ;
  smtpd_flush() ;
  filtering = 0 ;
  holding = dkim ;
  held.len = 0 ;
  recvlen = 0 ;
  if (authres.len && !holding) qput(authres.s, authres.len) ;
  received(helo, esmtp) ;
  if (holding) recvlen = held.len ;
  filtering = !!authres.len ;
  smtpd_arfilter_reset() ;
  if (body(!smtpd_barelf) < 0)
  {
    stop() ;
    smtpd_log_start("end") ;
    smtpd_log_put(": client gone in DATA") ;
    smtpd_log_end() ;
    _exit(0) ;
  }
  if (!bad)
  {
    if (filtering) smtpd_arfilter_end(&qraw) ;
    if (holding && !bad) release(1) ;
    qflush() ;
    if (!bad)
    {
      running = 0 ;
      code = qinject_finish(&q, env->s, env->len) ;
    }
  }
  else stop() ;
  if (held.a > HELD_KEEP) stralloc_free(&held) ;
  if (bad & BAD_SIZE) smtpd_reply("552", "5.3.4", "message too big") ;
  else if (bad & BAD_BARE) smtpd_reply("554", "5.6.0", "bare CR not allowed") ;
  else if (bad & BAD_NUL) smtpd_reply("554", "5.6.0", "NUL characters not allowed") ;
  else if (bad & BAD_LONG) smtpd_reply("554", "5.6.0", "line longer than " SMTPD_TEXT_MAX_S " bytes") ;
  else if (bad & BAD_HOPS) smtpd_reply("554", "5.4.6", "too many hops, this message is looping") ;
  else if (bad & BAD_MEM) smtpd_reply("451", "4.3.0", "out of memory") ;
  else if (!bad && !code)
  {
    memcpy(text, "ok qp ", 6) ;
    memcpy(text + 6, qp(), strlen(qp()) + 1) ;
    smtpd_reply("250", "2.0.0", text) ;
    log_result("ok", env->s + 1, nrcpt) ;
    smtpd_log_end() ;
    smtpd_flush() ;
    return ;
  }
  else
  {
    char num[4] = { 0 } ;
    x = qexit_lookup(code < 0 || code > 255 ? 255 : code) ;
    uint_fmt(num, x->smtp) ;
    smtpd_reply(num, x->status, x->text) ;
  }
  log_result("reject", env->s + 1, nrcpt) ;
  smtpd_log_put(": ") ;
  smtpd_log_put(bad & BAD_SIZE ? "message too big" : bad & BAD_BARE ? "bare CR"
    : bad & BAD_NUL ? "NUL" : bad & BAD_LONG ? "line too long"
    : bad & BAD_HOPS ? "too many hops" : bad & BAD_MEM ? "out of memory" : qexit_lookup(code)->text) ;
  smtpd_log_end() ;
  smtpd_flush() ;
}
