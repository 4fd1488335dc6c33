#include <string.h>
#include <skalibs/types.h>
#include "qlist.h"

static route rt = ROUTE_ZERO ;

static int catu (stralloc *sa, unsigned long u)
{
  char fmt[ULONG_FMT] ;
  return stralloc_catb(sa, fmt, ulong_fmt(fmt, u)) ;
}

/* the largest unit that keeps a whole number: 59s, 3m, 2h, 5d */
static int catage (stralloc *sa, uint32_t birth, uint32_t now)
{
  unsigned long age = now > birth ? now - birth : 0 ;
  if (age < 60) return catu(sa, age) && stralloc_cats(sa, "s") ;
  if (age < 3600) return catu(sa, age / 60) && stralloc_cats(sa, "m") ;
  if (age < 86400) return catu(sa, age / 3600) && stralloc_cats(sa, "h") ;
  return catu(sa, age / 86400) && stralloc_cats(sa, "d") ;
}

static char const *status_name (char s)
{
  switch (s)
  {
    case ST_TODO : return "waiting" ;
    case ST_DONE : return "done" ;
    case ST_FAILED : return "failed" ;
    case ST_BOUNCED : return "bounced" ;
    case QREAD_UNSORTED : return "unsorted" ;
    default : return "unknown" ;
  }
}

static char const *channel_name (char c)
{
  return c == CH_LOCAL ? "local" : c == CH_REMOTE ? "remote" : "unknown" ;
}

static int put_rcpt (stralloc *out, qread_msg const *m, qread_rcpt const *r, int held, uint32_t now, unsigned long slowafter)
{
  char const *lane = r->status != ST_TODO ? "-" : held ? "held"
    : qread_slow(r->attempts, m->birth, now, slowafter) ? "slow" : "fast" ;
  if (!stralloc_cats(out, "  <") || !qread_catesc(out, r->addr, strlen(r->addr))
   || !stralloc_cats(out, "> ") || !stralloc_cats(out, channel_name(r->channel))
   || !stralloc_cats(out, " ") || !stralloc_cats(out, status_name(r->status))
   || !stralloc_cats(out, " ") || !stralloc_cats(out, lane)
   || !stralloc_cats(out, " ") || !catu(out, r->attempts)) return 0 ;
  if (r->resultlen && (!stralloc_cats(out, " ") || !qread_catesc(out, r->result, r->resultlen))) return 0 ;
  return stralloc_cats(out, "\n") ;
}

int qlist_put (stralloc *out, qread_msg const *m, uint32_t now, unsigned long slowafter)
{
  qread_rcpt r ;
  size_t pos = 0 ;
  int held = qread_held(m->id) ;
  if (!stralloc_cats(out, m->id) || !stralloc_cats(out, " ") || !catage(out, m->birth, now)
   || !stralloc_cats(out, " ") || !catu(out, m->size) || !stralloc_cats(out, " <")
   || !qread_catesc(out, m->sender, strlen(m->sender)) || !stralloc_cats(out, ">")
   || (m->unsorted && !stralloc_cats(out, " unsorted"))
   || (held && !stralloc_cats(out, " held")) || !stralloc_cats(out, "\n")) return 0 ;
  route_reset(&rt) ;
  while (qread_next_rcpt(m, &pos, &rt, &r))
    if (!put_rcpt(out, m, &r, held, now, slowafter)) return 0 ;
  return 1 ;
}
