#include <skalibs/tai.h>
#include "remote.h"

void remote_deadline (tain *d, tain const *timeout, tain const *end)
{
  tain_now_g() ;
  tain_add_g(d, timeout) ;
  if (end && tain_less(end, d)) *d = *end ;
}
