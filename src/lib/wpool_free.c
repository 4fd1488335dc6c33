#include "wpool.h"

void wpool_free (wpool *p, unsigned int i)
{
  wpool_retire(p, i) ;
  p->w[i].pid = 0 ;
  p->w[i].busy = 0 ;
  p->w[i].served = 0 ;
  p->w[i].key = 0 ;
}
