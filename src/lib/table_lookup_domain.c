#include <string.h>
#include <skalibs/stralloc.h>
#include "table.h"

int table_lookup_domain (char const *path, char const *domain, stralloc *v)
{
  size_t len = strlen(domain) ;
  int r = table_lookup(path, domain, len, v) ;
  for (size_t i = 0 ; !r && i < len ; i++)
    if (domain[i] == '.') r = table_lookup(path, domain + i, len - i, v) ;
  if (!r) r = table_lookup(path, "*", 1, v) ;
  return r ;
}
