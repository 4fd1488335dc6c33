#include <string.h>
#include "envelope.h"

char const *env_next_rcpt (env_view const *v, size_t *pos)
{
  char const *r ;
  if (*pos >= v->rcptslen) return 0 ;
  r = v->rcpts + *pos ;
  *pos += strlen(r) + 1 ;
  return r + 1 ;
}
