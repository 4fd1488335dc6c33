#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "spawner.h"

void spawner_reply_all (char const *id, unsigned int n, char const *text)
{
  static stralloc out = STRALLOC_ZERO ;
  out.len = 0 ;
  if (!stralloc_catb(&out, "J", 1) || !stralloc_catb(&out, id, strlen(id) + 1))
    strerr_diefu1sys(111, "allocate") ;
  for (unsigned int i = 0 ; i < n ; i++)
    if (!stralloc_catb(&out, "Z", 1) || !stralloc_catb(&out, text, strlen(text) + 1))
      strerr_diefu1sys(111, "allocate") ;
  spawner_put(out.s, out.len) ;
}
