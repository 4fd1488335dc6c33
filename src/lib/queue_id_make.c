#include <time.h>
#include <unistd.h>
#include <skalibs/types.h>
#include "queue.h"

/* Unique while queued: a pid is unique among live processes, and the
   caller creates the body with O_EXCL, retrying with a new id, so even a
   clock stepped back cannot reuse the id of a queued message. Not an
   inode number: the queue can be moved or restored. */
size_t queue_id_make (char *s, unsigned int root)
{
  struct timespec ts ;
  size_t n ;
  if (clock_gettime(CLOCK_REALTIME, &ts) < 0) ts.tv_sec = 0, ts.tv_nsec = 0 ;
  n = uint320_xfmt(s, (uint32_t)ts.tv_sec, 8) ;
  n += uint320_xfmt(s + n, (uint32_t)ts.tv_nsec, 8) ;
  s[n++] = '.' ;
  n += pid_fmt(s + n, getpid()) ;
  if (root)
  {
    s[n++] = '.' ;
    n += uint_fmt(s + n, root) ;
  }
  s[n] = 0 ;
  return n ;
}
