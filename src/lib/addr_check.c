#include "addr.h"

enum addr_error addr_check (char const *s, size_t len)
{
  if (len > ADDR_MAX) return ADDR_ETOOLONG ;
  for (size_t i = 0 ; i < len ; i++)
  {
    unsigned char c = (unsigned char)s[i] ;
    if (c < 32 || c == 127) return ADDR_ECONTROL ;
  }
  return ADDR_OK ;
}
