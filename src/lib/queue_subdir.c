#include <skalibs/types.h>
#include "queue.h"

size_t queue_subdir (char *s, char const *tree, char const *id)
{
  size_t n = queue_tree(s, queue_id_root(id), tree) ;
  s[n++] = '/' ;
  n += uint_fmt(s + n, queue_hash(id)) ;
  s[n] = 0 ;
  return n ;
}
