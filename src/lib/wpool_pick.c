#include "wpool.h"

int wpool_pick (wpool const *p, uint64_t key)
{
  int best = -1 ;
  for (unsigned int i = 0 ; i < p->max ; i++)
  {
    wpool_worker const *w = p->w + i ;
    if (!w->pid || w->fd < 0 || w->key != key || w->served >= p->uses) continue ;
    if (best < 0 || w->busy < p->w[best].busy
     || (w->busy == p->w[best].busy && tain_less(&p->w[best].idle, &w->idle))) best = (int)i ;
  }
  return best ;
}
