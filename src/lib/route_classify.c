#include <string.h>
#include "route.h"

static size_t lower (char *d, char const *s, size_t n)
{
  for (size_t i = 0 ; i < n ; i++) d[i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i] ;
  return n ;
}

static int cached (route const *r, char const *dom, size_t len)
{
  if (r->kind == ROUTE_NONE || len != r->domlen) return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    char c = dom[i] >= 'A' && dom[i] <= 'Z' ? dom[i] + 32 : dom[i] ;
    if (c != r->dom[i]) return 0 ;
  }
  return 1 ;
}

enum route_kind route_classify (route *r, char *local, size_t *n, char const *addr, size_t len)
{
  size_t at = len ;
  *n = 0 ;
  r->table = 0 ;
  if (len > ROUTE_LOCALNAME_MAX) return ROUTE_NONE ;
  while (at && addr[at - 1] != '@') at-- ;
  if (!at)
  {
    *n = lower(local, addr, len) ;
    return ROUTE_LOCAL ;
  }
  if (!cached(r, addr + at, len - at) && !route_domain(r, addr + at, len - at))
    return ROUTE_NONE ;
  switch (r->kind)
  {
    case ROUTE_LOCAL :
      *n = lower(local, addr, at - 1) ;
      break ;
    case ROUTE_VIRTUAL :
      if (r->prefix.len + 1 + at - 1 > ROUTE_LOCALNAME_MAX) return ROUTE_NONE ;
      memcpy(local, r->prefix.s, r->prefix.len) ;
      *n = r->prefix.len ;
      if (*n) local[(*n)++] = '-' ;
      *n += lower(local + *n, addr, at - 1) ;
      break ;
    default : break ;
  }
  return r->kind ;
}
