#include <string.h>
#include <skalibs/stralloc.h>
#include "route.h"
#include "table.h"

int route_static (char const *domain, stralloc *v)
{
  size_t len = strlen(domain) ;
  int r = table_lookup(ROUTE_STATIC, domain, len, v) ;
  for (size_t i = 0 ; !r && i < len ; i++)
    if (domain[i] == '.') r = table_lookup(ROUTE_STATIC, domain + i, len - i, v) ;
  if (!r) r = table_lookup(ROUTE_STATIC, "*", 1, v) ;
  return r ;
}
