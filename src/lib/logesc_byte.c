#include "logesc.h"

size_t logesc_byte (char *e, unsigned char c)
{
  if (c >= 32 && c < 127 && c != '\\') { e[0] = (char)c ; return 1 ; }
  e[0] = '\\' ; e[1] = '0' + (c >> 6) ; e[2] = '0' + ((c >> 3) & 7) ; e[3] = '0' + (c & 7) ;
  return 4 ;
}
