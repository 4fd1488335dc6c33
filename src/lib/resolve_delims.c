#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "resolve.h"

/* read at each lookup, as the tables are: a change counts at once */
int resolve_delims (char *d)
{
  stralloc sa = STRALLOC_ZERO ;
  int r = control_readline(&sa, RESOLVE_DELIMS_FILE) ;
  if (r < 0) return -1 ;
  if (!r) { memcpy(d, RESOLVE_DELIMS, sizeof RESOLVE_DELIMS) ; return 1 ; }
  if (sa.len > RESOLVE_DELIMS_MAX || memchr(sa.s, ' ', sa.len) || memchr(sa.s, '\t', sa.len))
  {
    stralloc_free(&sa) ;
    return (errno = EINVAL, -1) ;
  }
  if (sa.len) memcpy(d, sa.s, sa.len) ;
  d[sa.len] = 0 ;
  stralloc_free(&sa) ;
  return 1 ;
}
