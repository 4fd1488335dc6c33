#include <string.h>
#include <skalibs/genalloc.h>
#include "qread.h"
#include "qscan.h"
#include "queue.h"

static int list (stralloc *names, stralloc *offs, char const *tree, unsigned int sub, unsigned int max)
{
  size_t at = names->len ;
  int n = qscan_names(names, tree, sub, max) ;
  if (n < 0) return -1 ;
  if (!genalloc_readyplus(size_t, offs, (size_t)n)) return -1 ;
  for (int i = 0 ; i < n ; i++)
  {
    genalloc_append(size_t, offs, &at) ;
    at += strlen(names->s + at) + 1 ;
  }
  return n ;
}

int qread_ids (stralloc *names, stralloc *offs, unsigned int sub, unsigned int max)
{
  int a = list(names, offs, QUEUE_TODO, sub, max), b ;
  if (a < 0) return -1 ;
  b = list(names, offs, QUEUE_STATE, sub, max - (unsigned int)a) ;
  return b < 0 ? -1 : a + b ;
}
