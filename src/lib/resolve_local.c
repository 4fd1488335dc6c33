#include <string.h>
#include <skalibs/bytestr.h>
#include <skalibs/stralloc.h>
#include "addr.h"
#include "resolve.h"

/* the extension: what follows the user part and its delimiter, lowercased */
static int set_ext (resolve_dest *d, char const *s, size_t len)
{
  d->ext = d->sa.len ;
  if (!stralloc_catb(&d->sa, s, len) || !stralloc_0(&d->sa)) return -1 ;
  case_lowerb(d->sa.s + d->ext, len) ;
  return 1 ;
}

/* Aliases by the whole name; then users by the whole name and by each
   prefix before a delimiter (control/delimiters), longest first. */
int resolve_local (resolve_dest *d, char const *localname, size_t len)
{
  char name[ADDR_MAX + 1] ;
  char delims[RESOLVE_DELIMS_MAX + 1] ;
  size_t i = len ;
  int r ;
  d->kind = RESOLVE_NONE ;
  d->sa.len = 0 ;
  if (!len || len > ADDR_MAX || memchr(localname, 0, len)) return 0 ;
  memcpy(name, localname, len) ;
  name[len] = 0 ;
  case_lowerb(name, len) ;
  r = resolve_alias(d, name, len) ;
  if (r) return r ;
  if (resolve_delims(delims) < 0) return -1 ;
  for (;;)
  {
    r = resolve_user(d, name, i) ;
    if (r < 0) return r ;
    if (r) return i == len ? set_ext(d, "", 0) : set_ext(d, localname + i + 1, len - i - 1) ;
    do if (!--i) return 0 ; while (!strchr(delims, name[i])) ;
    name[i] = 0 ;
  }
}
