#include "wpool.h"

int wpool_idle (wpool const *p, unsigned long key)
{
  int best = -1 ;
  for (unsigned int i = 0 ; i < p->max ; i++)
  {
    wpool_worker const *w = p->w + i ;
    if (!w->pid || w->fd < 0 || w->busy || w->key != key) continue ;
    if (best < 0 || tain_less(&p->w[best].idle, &w->idle)) best = (int)i ;
  }
  return best ;
}
