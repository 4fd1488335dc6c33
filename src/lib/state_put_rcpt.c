#include <skalibs/stralloc.h>
#include "state.h"

int state_put_rcpt (stralloc *sa, char channel, char const *addr, size_t addrlen, char const *localname, size_t locallen)
{
  if (!stralloc_readyplus(sa, STATE_FIXED + addrlen + locallen + 4)) return 0 ;
  state_fmt_fixed(sa->s + sa->len, ST_TODO, channel, 0, 0, "", 0) ;
  sa->len += STATE_FIXED ;
  sa->s[sa->len++] = 0 ;
  stralloc_catb(sa, addr, addrlen) ;
  sa->s[sa->len++] = 0 ;
  sa->s[sa->len++] = 'L' ;
  stralloc_catb(sa, localname, locallen) ;
  sa->s[sa->len++] = 0 ;
  return 1 ;
}
