/* queue-list: the queue for the operator, as mailq: a line per message,
   one per recipient, oldest first. Run by root or the queue owner; reads
   queue/todo, queue/state and body sizes without locks, writes only to
   fd 1 (warnings on fd 2). queue-list(8). */

#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/genalloc.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include "accounts.h"
#include "home.h"
#include "qlist.h"
#include "queue.h"

#define USAGE "queue-list [ -s substring ]"

static stralloc names = STRALLOC_ZERO ;
static stralloc offs = STRALLOC_ZERO ;   /* size_t into names */
static stralloc file = STRALLOC_ZERO ;
static stralloc out = STRALLOC_ZERO ;

static char const *parse (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  char const *sub = 0 ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "s:", &l) ;
    if (opt == -1) break ;
    if (opt != 's') strerr_dieusage(100, USAGE) ;
    sub = l.arg ;
  }
  if (argc != l.ind) strerr_dieusage(100, USAGE) ;
  return sub ;
}

static void flush_out (void)
{
  if (buffer_put(buffer_1, out.s, out.len) < 0) strerr_diefu1sys(111, "write to stdout") ;
  out.len = 0 ;
}

int main (int argc, char const *const *argv)
{
  char const *sub ;
  unsigned long slowafter ;
  uint32_t now ;
  unsigned long listed = 0 ;
  PROG = "queue-list" ;
  sub = parse(argc, argv) ;
  if (chdir(home_dir()) < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  if (!qread_allowed())
    strerr_dief3x(100, "only root or the queue owner (", auto_user_queue, ") may read the queue") ;
  if (qread_slowafter(&slowafter) < 0) strerr_diefu1sys(111, "read control/slowafter") ;
  now = (uint32_t)time(0) ;
  qread_all(&names, &offs) ;
  for (size_t i = 0 ; i < genalloc_len(size_t, &offs) ; i++)
  {
    qread_msg m ;
    char const *id = names.s + genalloc_s(size_t, &offs)[i] ;
    if (!qread_get(&m, &file, id)) continue ;
    if (sub && !qread_match(&m, sub)) continue ;
    if (!qlist_put(&out, &m, now, slowafter)) strerr_diefu1sys(111, "allocate") ;
    listed++ ;
    if (out.len >= 65536) flush_out() ;
  }
  /* as mailq: an empty queue is said so; a filter that matches nothing
     prints nothing */
  if (!listed && !sub && !stralloc_cats(&out, "queue is empty\n")) strerr_diefu1sys(111, "allocate") ;
  flush_out() ;
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
