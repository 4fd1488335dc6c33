#include "utf8.h"

int utf8_any (char const *s, size_t len)
{
  for (size_t i = 0 ; i < len ; i++) if ((unsigned char)s[i] >= 0x80) return 1 ;
  return 0 ;
}
