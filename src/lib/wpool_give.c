#include "wpool.h"

void wpool_give (wpool *p, unsigned int i)
{
  p->w[i].busy++ ;
  p->w[i].served++ ;
}
