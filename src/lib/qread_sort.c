#include <stdlib.h>
#include <string.h>
#include <skalibs/genalloc.h>
#include "qread.h"

static int cmp (void const *a, void const *b, void *base)
{
  return strcmp((char const *)base + *(size_t const *)a, (char const *)base + *(size_t const *)b) ;
}

void qread_sort (stralloc const *names, stralloc *offs)
{
  size_t *o = genalloc_s(size_t, offs) ;
  size_t n = genalloc_len(size_t, offs), k = 0 ;
  if (!n) return ;
  qsort_r(o, n, sizeof *o, &cmp, names->s) ;
  for (size_t i = 1 ; i < n ; i++)
    if (strcmp(names->s + o[i], names->s + o[k])) o[++k] = o[i] ;
  genalloc_setlen(size_t, offs, k + 1) ;
}
