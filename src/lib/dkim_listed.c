/* RFC 6376 3.5, 3.6.1: h=, q=, and a key record's h= and s= are
   colon-separated lists, white space allowed around their items */

#include <string.h>
#include <strings.h>
#include "dkim.h"

static int fws (char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' ; }

int dkim_listed (char const *v, size_t vlen, char const *item)
{
  size_t n = strlen(item) ;
  for (size_t i = 0 ; i <= vlen ;)
  {
    size_t j = i, a, b ;
    while (j < vlen && v[j] != ':') j++ ;
    a = i ; b = j ;
    while (a < b && fws(v[a])) a++ ;
    while (b > a && fws(v[b-1])) b-- ;
    if (b - a == n && !strncasecmp(v + a, item, n)) return 1 ;
    i = j + 1 ;
  }
  return 0 ;
}
