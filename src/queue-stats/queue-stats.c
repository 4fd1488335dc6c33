/* queue-stats: the queue in numbers, as qmail-qstat and Postfix's
   qshape: messages and recipients by state and channel, then the
   domains with the most recipients waiting, by age. Run by root or the
   queue owner; reads the queue without locks, writes only to fd 1
   (warnings on fd 2). queue-stats(8). */

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/genalloc.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "accounts.h"
#include "home.h"
#include "qread.h"
#include "qstats.h"
#include "queue.h"

#define USAGE "queue-stats [ -n count ]"

static stralloc names = STRALLOC_ZERO ;
static stralloc offs = STRALLOC_ZERO ;
static stralloc file = STRALLOC_ZERO ;
static struct qstats_counts counts ;
static route rt = ROUTE_ZERO ;
/* messages per queue root */
static unsigned long rootmsgs[QUEUE_ROOTS_MAX] ;

static unsigned int parse (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  unsigned int top = QSTATS_TOP_DEFAULT ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "n:", &l) ;
    if (opt == -1) break ;
    if (opt != 'n') strerr_dieusage(100, USAGE) ;
    if (!uint0_scan(l.arg, &top) || top > QSTATS_TOP_MAX)
      strerr_dief1x(100, "-n: a number of domains, at most 1000000") ;
  }
  if (argc != l.ind) strerr_dieusage(100, USAGE) ;
  return top ;
}

/* qshape's columns: ages below 5, 10, 20 ... 1280 minutes, then the rest */
static unsigned int qstats_age (uint32_t birth, uint32_t now)
{
  uint32_t age = now > birth ? now - birth : 0 ;
  unsigned int i = 0 ;
  for (uint32_t limit = 5 * 60 ; i < QSTATS_AGES - 1 && age >= limit ; i++) limit *= 2 ;
  return i ;
}

static enum qstats_row row_of (qread_msg const *m, qread_rcpt const *r, uint32_t now, unsigned long slowafter)
{
  switch (r->status)
  {
    case QREAD_UNSORTED : return QR_UNSORTED ;
    case ST_TODO : return qread_slow(r->attempts, m->birth, now, slowafter) ? QR_SLOW : QR_FAST ;
    case ST_DONE : return QR_DONE ;
    case ST_FAILED : return QR_FAILED ;
    default : return QR_BOUNCED ;
  }
}

static void count (qread_msg const *m, uint32_t now, unsigned long slowafter)
{
  qread_rcpt r ;
  size_t pos = 0 ;
  unsigned int age = qstats_age(m->birth, now) ;
  counts.msgs++ ;
  counts.unsorted += m->unsorted ;
  route_reset(&rt) ;
  while (qread_next_rcpt(m, &pos, &rt, &r))
  {
    enum qstats_row i = row_of(m, &r, now, slowafter) ;
    if (r.channel != QREAD_CH_UNKNOWN) counts.rcpts[i][r.channel == CH_LOCAL ? QC_LOCAL : QC_REMOTE]++ ;
    counts.rcpts[i][QC_TOTAL]++ ;
    if (i == QR_UNSORTED || i == QR_FAST || i == QR_SLOW) qstats_dom_add(r.addr, age) ;
  }
}

/* one subdirectory at a time: memory follows the largest, not the queue */
static void scan (uint32_t now, unsigned long slowafter)
{
  for (unsigned int sub = 0 ; sub < auto_split ; sub++)
  {
    int n ;
    names.len = offs.len = 0 ;
    n = qread_ids(&names, &offs, sub, QREAD_MSG_MAX) ;
    if (n < 0) strerr_diefu1sys(111, "read the queue directories") ;
    qread_sort(&names, &offs) ;
    for (size_t i = 0 ; i < genalloc_len(size_t, &offs) ; i++)
    {
      qread_msg m ;
      char const *id = names.s + genalloc_s(size_t, &offs)[i] ;
      if (!qread_get(&m, &file, id)) continue ;
      rootmsgs[queue_id_root(id)]++ ;
      count(&m, now, slowafter) ;
    }
  }
}

/* with several roots (control/queues), a line each: "root N PATH:
   M messages, F MB free" and ", draining" for a root not written to */
static int roots_print (stralloc *out)
{
  unsigned int n = queue_roots() ;
  char fmt[ULONG_FMT] ;
  if (n < 2) return 1 ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    char tree[QUEUE_PATH_MAX] ;
    struct statvfs sv ;
    if (!stralloc_cats(out, "root ") || !stralloc_catb(out, fmt, uint_fmt(fmt, i))
     || !stralloc_cats(out, " ") || !stralloc_cats(out, queue_root(i))
     || !stralloc_cats(out, ": ") || !stralloc_catb(out, fmt, ulong_fmt(fmt, rootmsgs[i]))
     || !stralloc_cats(out, " messages")) return 0 ;
    queue_tree(tree, i, QUEUE_BODY) ;
    if (statvfs(tree, &sv) < 0)
    {
      if (!stralloc_cats(out, ", unreadable: ") || !stralloc_cats(out, strerror(errno))) return 0 ;
    }
    else
    {
      unsigned long long mb = (unsigned long long)sv.f_bavail * sv.f_frsize >> 20 ;
      if (!stralloc_cats(out, ", ") || !stralloc_catb(out, fmt, ulong_fmt(fmt, (unsigned long)mb))
       || !stralloc_cats(out, " MB free")) return 0 ;
    }
    if (!queue_root_writable(i) && !stralloc_cats(out, ", draining")) return 0 ;
    if (!stralloc_cats(out, "\n")) return 0 ;
  }
  return 1 ;
}

int main (int argc, char const *const *argv)
{
  stralloc out = STRALLOC_ZERO ;
  unsigned long slowafter ;
  unsigned int top ;
  PROG = "queue-stats" ;
  top = parse(argc, argv) ;
  if (chdir(home_dir()) < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (!qread_allowed())
    strerr_dief3x(100, "only root or the queue owner (", auto_user_queue, ") may read the queue") ;
  if (qread_slowafter(&slowafter) < 0) strerr_diefu1sys(111, "read control/slowafter") ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  scan((uint32_t)time(0), slowafter) ;
  if (!qstats_print(&out, &counts, top) || !roots_print(&out)) strerr_diefu1sys(111, "allocate") ;
  if (buffer_put(buffer_1, out.s, out.len) < 0 || !buffer_flush(buffer_1))
    strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
