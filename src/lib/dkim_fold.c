/* mode DKIM_FOLD_TAG: " " then s on this line, or CR LF TAB then s;
   DKIM_FOLD_GLUE: s right after what precedes (the names of h=, which
   may be folded only beside their colons), else CR LF TAB then s;
   DKIM_FOLD_ANY: s right after what precedes, broken wherever a line
   is full (the value of b=, whose blanks a verifier drops) */

#include <skalibs/stralloc.h>
#include "dkim.h"

int dkim_fold (stralloc *sa, size_t *col, char const *s, size_t len, int mode)
{
  size_t space = mode == DKIM_FOLD_GLUE ? 0 : 1 ;
  if (mode == DKIM_FOLD_ANY)
  {
    while (*col + len > DKIM_LINE_WIDTH)
    {
      size_t n = *col < DKIM_LINE_WIDTH ? DKIM_LINE_WIDTH - *col : 0 ;
      if (!stralloc_catb(sa, s, n) || !stralloc_catb(sa, "\r\n\t", 3)) return 0 ;
      s += n ; len -= n ;
      *col = 1 ;
    }
    space = 0 ;
  }
  else if (*col + space + len > DKIM_LINE_WIDTH && *col > 1)
  {
    if (!stralloc_catb(sa, "\r\n\t", 3)) return 0 ;
    *col = 1 ;
    space = 0 ;
  }
  if ((space && !stralloc_catb(sa, " ", 1)) || !stralloc_catb(sa, s, len)) return 0 ;
  *col += space + len ;
  return 1 ;
}
