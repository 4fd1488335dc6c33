#include "wpool.h"

int wpool_oldest (wpool const *p)
{
  int best = -1 ;
  for (unsigned int i = 0 ; i < p->max ; i++)
  {
    wpool_worker const *w = p->w + i ;
    if (!w->pid || w->fd < 0 || w->busy) continue ;
    if (best < 0 || tain_less(&w->idle, &p->w[best].idle)) best = (int)i ;
  }
  return best ;
}
