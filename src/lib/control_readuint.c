#include <errno.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "control.h"

int control_readuint (unsigned long *u, char const *name, unsigned long def)
{
  stralloc sa = STRALLOC_ZERO ;
  size_t n ;
  int r = control_readline(&sa, name) ;
  if (r <= 0) { stralloc_free(&sa) ; if (!r) *u = def ; return r < 0 ? -1 : 1 ; }
  if (!stralloc_0(&sa)) { stralloc_free(&sa) ; return -1 ; }
  n = ulong_scan(sa.s, u) ;
  r = n && !sa.s[n] ? 1 : (errno = EINVAL, -1) ;
  stralloc_free(&sa) ;
  return r ;
}
