#include <skalibs/djbunix.h>
#include "wpool.h"

void wpool_retire (wpool *p, unsigned int i)
{
  if (p->w[i].fd >= 0) fd_close(p->w[i].fd) ;
  p->w[i].fd = -1 ;
}
