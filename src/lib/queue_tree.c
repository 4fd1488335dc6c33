#include <string.h>
#include <skalibs/types.h>
#include "queue.h"

/* a root control/queues does not (or no longer) name: a path that
   cannot exist, so the caller's open fails and its warning shows it */
#define QUEUE_ROOT_UNKNOWN QUEUE_DIR "/unknown-root-"

size_t queue_tree (char *s, unsigned int root, char const *tree)
{
  char const *r = queue_root(root) ;
  size_t n, t = strlen(tree) ;
  if (r)
  {
    n = strlen(r) ;
    memcpy(s, r, n) ;
  }
  else
  {
    n = sizeof QUEUE_ROOT_UNKNOWN - 1 ;
    memcpy(s, QUEUE_ROOT_UNKNOWN, n) ;
    n += uint_fmt(s + n, root) ;
  }
  s[n++] = '/' ;
  memcpy(s + n, tree, t + 1) ;
  return n + t ;
}
