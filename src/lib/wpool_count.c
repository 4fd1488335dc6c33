#include "wpool.h"

unsigned int wpool_count (wpool const *p, unsigned int *busy)
{
  unsigned int n = 0, b = 0 ;
  for (unsigned int i = 0 ; i < p->max ; i++)
  {
    if (!p->w[i].pid) continue ;
    n++ ;
    if (p->w[i].busy) b++ ;
  }
  if (busy) *busy = b ;
  return n ;
}
