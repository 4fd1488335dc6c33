#include <errno.h>
#include <skalibs/stralloc.h>
#include "addr.h"
#include "resolve.h"
#include "table.h"

/* The value lists addresses separated by commas and blanks; they are
   kept joined by single commas. An entry without one is malformed. */
int resolve_alias (resolve_dest *d, char const *name, size_t len)
{
  stralloc v = STRALLOC_ZERO ;
  size_t i = 0, n = 0 ;
  int r = table_lookup(RESOLVE_ALIASES, name, len, &v) ;
  if (r <= 0) { stralloc_free(&v) ; return r ; }
  d->sa.len = 0 ;
  d->addrs = 0 ;
  while (i < v.len)
  {
    size_t start ;
    while (i < v.len && (v.s[i] == ',' || v.s[i] == ' ' || v.s[i] == '\t')) i++ ;
    start = i ;
    while (i < v.len && v.s[i] != ',' && v.s[i] != ' ' && v.s[i] != '\t') i++ ;
    if (i == start) break ;
    if (addr_check(v.s + start, i - start) != ADDR_OK) { r = -1 ; errno = EINVAL ; break ; }
    if ((n++ && !stralloc_catb(&d->sa, ",", 1)) || !stralloc_catb(&d->sa, v.s + start, i - start))
    { r = -1 ; break ; }
  }
  stralloc_free(&v) ;
  if (r > 0 && !n) { r = -1 ; errno = EINVAL ; }
  if (r > 0 && !stralloc_0(&d->sa)) r = -1 ;
  if (r > 0) d->kind = RESOLVE_ALIAS ;
  return r ;
}
