#include <string.h>
#include <skalibs/types.h>
#include "log-summary.h"

/* The words of postern-log(5) (send) and smtpd(8)'s Log section. A
   result line names only its delivery number: the "starting delivery"
   line of that number, the latest one, gives the message and the
   domain, and stays valid until the number is used again. */

struct open
{
  uint64_t queued ;             /* the message id's time, ns */
  uint32_t gen ;                /* valid if equal to the current gen */
  unsigned char dlen ;
  char domain[SUMMARY_DOMAIN_MAX] ;
} ;

/* static: only the pages of the numbers used are ever touched */
static struct open opened[SUMMARY_DELIVERY_MAX] ;
/* a restart of send renumbers: bumping gen forgets every number at once */
static uint32_t gen = 1 ;

static char const *after (char const *s, char const *w)
{
  size_t n = strlen(w) ;
  return strncmp(s, w, n) ? 0 : s + n ;
}

static int hex8 (char const *s, uint32_t *u)
{
  uint32_t x = 0 ;
  for (unsigned int i = 0 ; i < 8 ; i++)
  {
    unsigned char c = s[i] ;
    if (c >= '0' && c <= '9') x = x << 4 | (c - '0') ;
    else if (c >= 'a' && c <= 'f') x = x << 4 | (c - 'a' + 10) ;
    else return 0 ;
  }
  *u = x ;
  return 1 ;
}

/* queue.h: 8 hex digits of seconds, 8 of nanoseconds, '.', pid */
static char const *msgid (char const *s, uint64_t *queued)
{
  uint32_t sec, ns ;
  size_t i = 17 ;
  if (!hex8(s, &sec) || !hex8(s + 8, &ns) || ns >= NS || s[16] != '.') return 0 ;
  while (s[i] >= '0' && s[i] <= '9') i++ ;
  if (i == 17) return 0 ;
  *queued = (uint64_t)sec * NS + ns ;
  return s + i ;
}

static void starting (char const *s)
{
  uint32_t d ;
  uint64_t queued ;
  size_t n = uint32_scan(s, &d), i, at = 0 ;
  struct open *o ;
  char const *p ;
  int q ;
  if (!n || !(s = after(s + n, ": msg ")) || !(s = msgid(s, &queued)) || !(s = after(s, " to "))) return ;
  if (!(p = after(s, "local ")) && !(p = after(s, "remote "))) return ;
  s = after(p, "(slow) ") ? p + 7 : p ;
  logsum_totals.starts++ ;
  if (d >= SUMMARY_DELIVERY_MAX) { logsum_totals.untracked++ ; return ; }
  /* every address of a job is at one domain: the first one's will do;
     a space is written as is, so one in a quoted local part is skipped */
  for (i = 0, q = 0 ; s[i] && (q || s[i] != ' ') ; i++)
  {
    if (s[i] == '"') q = !q ;
    else if (s[i] == '@' && !q) at = i + 1 ;
  }
  o = opened + d ;
  o->queued = queued ;
  o->gen = gen ;
  o->dlen = 0 ;
  for (s += at, i -= at ; o->dlen < i && o->dlen < SUMMARY_DOMAIN_MAX ; o->dlen++)
  {
    unsigned char c = s[o->dlen] ;
    o->domain[o->dlen] = c >= 'A' && c <= 'Z' ? c + 32 : c ;
  }
}

static void result (uint64_t t, char const *s)
{
  uint32_t d ;
  size_t n = uint32_scan(s, &d) ;
  struct open const *o ;
  char const *text ;
  int failure ;
  if (!n || !(s = after(s + n, ": "))) return ;
  o = d < SUMMARY_DELIVERY_MAX && opened[d].gen == gen ? opened + d : 0 ;
  if (!o) logsum_totals.unmatched++ ;
  if ((text = after(s, "success: ")))
  {
    logsum_totals.delivered++ ;
    logsum_series_at(t)->delivered++ ;
    if (o) logsum_hist_add(t > o->queued ? (t - o->queued) / 1000000 : 0) ;
    return ;
  }
  if ((text = after(s, "failure: "))) failure = 1 ;
  else if ((text = after(s, "deferral: "))) failure = 0 ;
  else return ;
  if (failure)
  {
    logsum_totals.failed++ ;
    logsum_series_at(t)->failed++ ;
    if (after(text, "4.4.7 queue lifetime exceeded")) logsum_totals.expired++ ;
  }
  else
  {
    logsum_totals.deferred++ ;
    logsum_series_at(t)->deferred++ ;
  }
  if (o && o->dlen) logsum_dest_add(o->domain, o->dlen, failure, text, strlen(text)) ;
  else logsum_dest_add(o ? "(none)" : "(unknown)", o ? 6 : 9, failure, text, strlen(text)) ;
}

/* bounce(8)'s report: "queued bounce for ..." (a notice or a double
   bounce, each queued as a new msg from <> or <#@[]>) or "dropped double
   bounce for ..." (nothing queued) */
static void bounce (char const *s)
{
  char const *p ;
  while (*s && *s != ' ' && *s != ':') s++ ;
  if ((p = after(s, ": done: ")))
  {
    if (after(p, "dropped ")) logsum_totals.bounces_dropped++ ;
    else logsum_totals.bounces++ ;
  }
  else if (after(s, ": deferral: ")) logsum_totals.bounce_deferrals++ ;
}

static void status (uint64_t t, char const *s)
{
  uint64_t u ;
  struct interval *iv ;
  if (!strcmp(s, "send started"))
  {
    logsum_totals.restarts++ ;
    gen++ ;
    return ;
  }
  if (!after(s, "local ") || !(s = strstr(s, " msgs ")) || !uint64_scan(s + 6, &u)) return ;
  iv = logsum_series_at(t) ;
  if ((int64_t)u > iv->queue) iv->queue = (int64_t)u ;
}

/* "ID: bytes N from <SENDER> uid U rcpts R": a bounce notice has <>,
   a double bounce bounce(8)'s BOUNCE_DOUBLE_SENDER, <#@[]> */
static void newmsg (char const *s)
{
  uint64_t queued, u ;
  size_t n ;
  logsum_totals.queued++ ;
  if (!(s = msgid(s, &queued)) || !(s = after(s, ": bytes ")) || !(n = uint64_scan(s, &u))) return ;
  if (after(s + n, " from <> ") || after(s + n, " from <#@[]> ")) logsum_totals.queued_bounces++ ;
}

/* "P qp Q from <SENDER> rcpts N bytes N": the sender may hold spaces,
   so the last " rcpts " is the one */
static void received (char const *s)
{
  char const *r = 0 ;
  uint64_t u ;
  logsum_totals.received++ ;
  for (char const *p = s ; (p = strstr(p, " rcpts ")) ; p++) r = p ;
  if (r && uint64_scan(r + 7, &u)) logsum_totals.received_rcpts += u ;
}

/* smtpd-listen(8)'s lines and tcpserver -v's, which they follow:
   "status: B/C", "deny ...", and the listener's refusals of a client
   over a limit, "busy ..." and "limit ..." */
static void listener (char const *s)
{
  char const *p ;
  uint64_t u ;
  if (after(s, "deny ") || after(s, "busy ") || after(s, "limit ")) logsum_totals.denied++ ;
  else if ((p = after(s, "status: ")) && uint64_scan(p, &u) && (int64_t)u > logsum_totals.busy) logsum_totals.busy = (int64_t)u ;
}

void logsum_summary_line (uint64_t t, char const *s)
{
  char const *p ;
  if (!logsum_totals.lines++ || t < logsum_totals.first) logsum_totals.first = t ;
  if (t > logsum_totals.last) logsum_totals.last = t ;
  /* the intervals span the whole log, quiet ones too */
  logsum_series_at(t) ;
  if ((p = after(s, "delivery "))) result(t, p) ;
  else if ((p = after(s, "starting delivery "))) starting(p) ;
  else if ((p = after(s, "new msg "))) newmsg(p) ;
  else if (after(s, "end msg ")) logsum_totals.ended++ ;
  else if ((p = after(s, "status: "))) status(t, p) ;
  else if ((p = after(s, "bounce msg "))) bounce(p) ;
  else if (after(s, "loaded msg ")) logsum_totals.loaded++ ;
  else if ((p = after(s, "ok pid "))) received(p) ;
  else if (after(s, "start pid ")) logsum_totals.connections++ ;
  else if (after(s, "reject pid ")) logsum_totals.rejected++ ;
  else if (after(s, "rcpt pid ")) logsum_totals.refused++ ;
  else if ((p = after(s, "smtpd-listen: ")) || (p = after(s, "tcpserver: "))) listener(p) ;
}
