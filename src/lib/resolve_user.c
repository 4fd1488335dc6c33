#include <skalibs/stralloc.h>
#include "resolve.h"
#include "table.h"

int resolve_user (resolve_dest *d, char const *name, size_t len)
{
  stralloc v = STRALLOC_ZERO ;
  int r = table_lookup(RESOLVE_USERS, name, len, &v) ;
  if (r > 0) r = resolve_users_parse(d, v.s, v.len) ;
  stralloc_free(&v) ;
  return r ? r : resolve_passwd(d, name) ;
}
