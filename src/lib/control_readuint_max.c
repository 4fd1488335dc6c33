#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"

/* A setting with a ceiling: a larger value is an operator's slip, not a
   reason to stop a daemon, so it is warned about and clamped. */
unsigned int control_readuint_max (char const *name, unsigned int def, unsigned int max)
{
  unsigned long u ;
  if (control_readuint(&u, name, def) < 0) strerr_diefu2sys(111, "read control/", name) ;
  if (u > max)
  {
    char fmt[UINT_FMT] ;
    fmt[uint_fmt(fmt, max)] = 0 ;
    strerr_warnw4x("control/", name, " is too large, using ", fmt) ;
    u = max ;
  }
  return (unsigned int)u ;
}
