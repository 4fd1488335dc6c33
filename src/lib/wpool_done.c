#include "wpool.h"

void wpool_done (wpool *p, unsigned int i)
{
  wpool_worker *w = p->w + i ;
  if (!w->busy || --w->busy) return ;
  tain_now_g() ;
  w->idle = STAMP ;
  /* used up: it ends now that it has nothing in hand */
  if (w->served >= p->uses) wpool_retire(p, i) ;
}
