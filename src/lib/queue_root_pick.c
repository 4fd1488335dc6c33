#include <errno.h>
#include <time.h>
#include <sys/statvfs.h>
#include "queue.h"

/* when each root may be tried again after a failure (writers only) */
static time_t paused[QUEUE_ROOTS_MAX] ;

void queue_root_failed (unsigned int i)
{
  if (i < QUEUE_ROOTS_MAX) paused[i] = time(0) + QUEUE_ROOT_PAUSE ;
}

/* one statvfs per root looked at: the writer learns a disk filled up
   before it starts a message there, not in the middle of it */
static int has_room (unsigned int i, unsigned long room)
{
  char tree[QUEUE_PATH_MAX] ;
  struct statvfs sv ;
  queue_tree(tree, i, QUEUE_BODY) ;
  if (statvfs(tree, &sv) < 0) return 0 ;
  if (sv.f_favail < 16 && sv.f_files) return 0 ;
  return (unsigned long long)sv.f_bavail * sv.f_frsize >= (unsigned long long)room ;
}

/* The first writable root from *cursor that passes: not set aside and
   with room; then with room alone; then any: a full disk is avoided while
   another has room, but a host whose every root is nearly full still
   takes the messages that fit, as with a single queue. */
int queue_root_pick (unsigned int *cursor, unsigned long room)
{
  unsigned int n = queue_roots() ;
  time_t now ;
  /* one root: nothing to choose, no statvfs to pay */
  if (n == 1 && queue_root_writable(0)) { *cursor = 1 ; return 0 ; }
  now = time(0) ;
  for (unsigned int pass = 0 ; pass < 3 ; pass++)
    for (unsigned int k = 0 ; k < n ; k++)
    {
      unsigned int i = (*cursor + k) % n ;
      if (!queue_root_writable(i)) continue ;
      if (pass == 0 && paused[i] > now) continue ;
      if (pass < 2 && !has_room(i, room)) continue ;
      *cursor = i + 1 ;
      return (int)i ;
    }
  errno = ENOENT ;
  return -1 ;
}
