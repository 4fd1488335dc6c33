#include <string.h>
#include <skalibs/genalloc.h>
#include "qread.h"
#include "qscan.h"
#include "queue.h"

static int list (stralloc *names, stralloc *offs, unsigned int root, char const *tree, unsigned int sub, unsigned int max)
{
  char dir[QUEUE_PATH_MAX] ;
  size_t at = names->len ;
  int n ;
  queue_tree(dir, root, tree) ;
  n = qscan_names(names, dir, sub, max) ;
  if (n < 0) return -1 ;
  if (!genalloc_readyplus(size_t, offs, (size_t)n)) return -1 ;
  for (int i = 0 ; i < n ; i++)
  {
    genalloc_append(size_t, offs, &at) ;
    at += strlen(names->s + at) + 1 ;
  }
  return n ;
}

/* subdirectory sub of every root */
int qread_ids (stralloc *names, stralloc *offs, unsigned int sub, unsigned int max)
{
  unsigned int total = 0 ;
  for (unsigned int root = 0 ; root < queue_roots() && total < max ; root++)
  {
    int a = list(names, offs, root, QUEUE_TODO, sub, max - total), b ;
    if (a < 0) return -1 ;
    total += (unsigned int)a ;
    b = list(names, offs, root, QUEUE_STATE, sub, max - total) ;
    if (b < 0) return -1 ;
    total += (unsigned int)b ;
  }
  return (int)total ;
}
