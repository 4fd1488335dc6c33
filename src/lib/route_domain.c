#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "route.h"
#include "table.h"

int route_domain (route *r, char const *dom, size_t len)
{
  int k ;
  if (len > ADDR_MAX) return (errno = ENAMETOOLONG, r->table = ROUTE_LOCALS, 0) ;
  r->kind = ROUTE_NONE ;
  /* a local domain's value is not used: prefix is only scratch here */
  k = table_lookup(ROUTE_LOCALS, dom, len, &r->prefix) ;
  if (k < 0) return (r->table = ROUTE_LOCALS, 0) ;
  if (k) r->kind = ROUTE_LOCAL ;
  else
  {
    k = table_lookup(ROUTE_VIRTUALS, dom, len, &r->prefix) ;
    if (k < 0) return (r->table = ROUTE_VIRTUALS, 0) ;
    r->kind = k ? ROUTE_VIRTUAL : ROUTE_REMOTE ;
  }
  for (size_t i = 0 ; i < len ; i++)
    r->dom[i] = dom[i] >= 'A' && dom[i] <= 'Z' ? dom[i] + 32 : dom[i] ;
  r->domlen = len ;
  return 1 ;
}
