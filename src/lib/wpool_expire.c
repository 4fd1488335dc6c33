#include "wpool.h"

unsigned int wpool_expire (wpool *p, tain const *limit)
{
  unsigned int n = 0 ;
  for (unsigned int i = 0 ; i < p->max ; i++)
  {
    wpool_worker *w = p->w + i ;
    if (!w->pid || w->fd < 0 || w->busy || !tain_less(&w->idle, limit)) continue ;
    wpool_retire(p, i) ;
    n++ ;
  }
  return n ;
}
