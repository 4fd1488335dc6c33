#include <skalibs/stralloc.h>
#include "resolve.h"

/* *next: 0 before the extension itself; else one past where the search
   for the next cut starts; RESOLVE_EXT_DONE after "default" */
int resolve_ext_next (stralloc *sa, size_t base, char const *ext, size_t len, size_t *next)
{
  size_t cut = *next ;
  sa->len = base ;
  if (cut == RESOLVE_EXT_DONE) return 0 ;
  if (!cut) cut = len ;
  else
  {
    cut-- ;
    while (cut && ext[--cut] != '-') ;
  }
  if (!stralloc_catb(sa, ext, cut)) return -1 ;
  for (size_t i = base ; i < sa->len ; i++)
  {
    char c = sa->s[i] ;
    sa->s[i] = c == '.' || c == '/' ? ':' : c >= 'A' && c <= 'Z' ? c + 32 : c ;
  }
  if (!*next) *next = len + 1 ;
  else
  {
    if ((cut && !stralloc_catb(sa, "-", 1)) || !stralloc_cats(sa, "default")) return -1 ;
    *next = cut ? cut + 1 : RESOLVE_EXT_DONE ;
  }
  return stralloc_0(sa) ? 1 : -1 ;
}
