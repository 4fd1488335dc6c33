#include <errno.h>
#include <skalibs/strerr.h>
#include "frame.h"

int frame_each (buffer *b, stralloc *rec, size_t max, frame_func *f)
{
  for (;;)
  {
    int r = frame_get(b, rec, max) ;
    if (!r) return 1 ;
    if (r < 0)
    {
      if (errno == EMSGSIZE) strerr_dief1x(101, "record too long on input") ;
      if (errno != EPIPE) strerr_diefu1sys(111, "read input") ;
      if (rec->len) strerr_warnw1x("incomplete record at end of input, ignored") ;
      return 0 ;
    }
    (*f)(rec->s, rec->len) ;
    rec->len = 0 ;
  }
}
