#include "addr.h"

static char lower (char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c ;
}

void addr_key (char *d, char const *s, size_t len, int local)
{
  size_t at = len ;
  while (at && s[at - 1] != '@') at-- ;
  /* no '@' (<postmaster>): a local name, so the whole of it */
  if (!at) local = 1 ;
  for (size_t i = 0 ; i < len ; i++) d[i] = local || i >= at ? lower(s[i]) : s[i] ;
}
