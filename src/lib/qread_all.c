#include <skalibs/strerr.h>
#include "qread.h"

void qread_all (stralloc *names, stralloc *offs)
{
  unsigned int total = 0 ;
  for (unsigned int sub = 0 ; sub < auto_split ; sub++)
  {
    int n = qread_ids(names, offs, sub, QREAD_MSG_MAX - total) ;
    if (n < 0) strerr_diefu1sys(111, "read the queue directories") ;
    total += (unsigned int)n ;
  }
  if (total >= QREAD_MSG_MAX) strerr_warnw1x("over 10000000 queue entries: the rest is left out") ;
  qread_sort(names, offs) ;
}
