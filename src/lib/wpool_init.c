#include "wpool.h"

void wpool_init (wpool *p, wpool_worker *storage, unsigned int max, unsigned long uses)
{
  p->w = storage ;
  p->max = max ;
  p->uses = uses ;
  for (unsigned int i = 0 ; i < max ; i++)
  {
    storage[i].pid = 0 ;
    storage[i].fd = -1 ;
    storage[i].busy = 0 ;
    storage[i].served = 0 ;
    storage[i].key = 0 ;
  }
}
