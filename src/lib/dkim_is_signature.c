#include <strings.h>
#include "dkim.h"

int dkim_is_signature (char const *f, size_t len)
{
  size_t k = 0 ;
  while (k < len && f[k] != ':') k++ ;
  while (k && (f[k-1] == ' ' || f[k-1] == '\t')) k-- ;
  return k == 14 && !strncasecmp(f, "dkim-signature", 14) ;
}
