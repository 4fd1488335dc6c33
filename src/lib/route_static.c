#include <skalibs/stralloc.h>
#include "route.h"
#include "table.h"

int route_static (char const *domain, stralloc *v)
{
  return table_lookup_domain(ROUTE_STATIC, domain, v) ;
}
