#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "local.h"

/* out of memory leaves *t empty: main then prints a fixed text */
int local_say (stralloc *t, int code, char const *a, char const *b, char const *c)
{
  t->len = 0 ;
  if (!stralloc_cats(t, a) || !stralloc_cats(t, b) || !stralloc_cats(t, c)) t->len = 0 ;
  return code ;
}

int local_temp (stralloc *t, char const *what, char const *obj)
{
  int e = errno ;
  /* RFC 3463 4.2.2: mailbox full */
  local_say(t, LOCAL_TEMP, e == ENOSPC || e == EDQUOT ? "4.2.2 unable to " : "4.3.0 unable to ", what, obj) ;
  if (t->len && (!stralloc_cats(t, ": ") || !stralloc_cats(t, strerror(e)))) t->len = 0 ;
  return LOCAL_TEMP ;
}
