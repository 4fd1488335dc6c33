#include <string.h>
#include "frame.h"

char const *frame_field (char const *s, size_t len, size_t *pos)
{
  char const *f = s + *pos ;
  char const *z ;
  if (*pos >= len || !*f) return 0 ;
  z = memchr(f, 0, len - *pos) ;
  if (!z) return 0 ;
  *pos = (size_t)(z - s) + 1 ;
  return f ;
}
