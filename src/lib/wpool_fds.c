#include "wpool.h"

unsigned int wpool_fds (wpool const *p, iopause_fd *x, unsigned int *tok, unsigned int base, unsigned int max)
{
  unsigned int n = 0 ;
  for (unsigned int i = 0 ; i < p->max && n < max ; i++)
    if (p->w[i].pid && p->w[i].fd >= 0)
    {
      x[n].fd = p->w[i].fd ;
      x[n].events = IOPAUSE_READ ;
      tok[n++] = base + i ;
    }
  return n ;
}
