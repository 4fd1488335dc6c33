#include "logesc.h"
#include "qread.h"

int qread_catesc (stralloc *sa, char const *s, size_t len)
{
  if (!stralloc_readyplus(sa, len * 4)) return 0 ;
  for (size_t i = 0 ; i < len ; i++) sa->len += logesc_byte(sa->s + sa->len, (unsigned char)s[i]) ;
  return 1 ;
}
