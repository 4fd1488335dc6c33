#include <string.h>
#include <skalibs/types.h>
#include "queue.h"

size_t queue_path (char *s, char const *tree, char const *id)
{
  size_t n = queue_subdir(s, tree, id) ;
  size_t idlen = strlen(id) ;
  s[n++] = '/' ;
  memcpy(s + n, id, idlen + 1) ;
  return n + idlen ;
}
