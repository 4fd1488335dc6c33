#include <skalibs/stralloc.h>
#include "envelope.h"

int env_put (stralloc *sa, char letter, char const *addr, size_t len)
{
  if (!stralloc_readyplus(sa, len + 2)) return 0 ;
  sa->s[sa->len++] = letter ;
  stralloc_catb(sa, addr, len) ;
  sa->s[sa->len++] = 0 ;
  return 1 ;
}
