/* RFC 6376 3.2: tag-list = tag-spec *( ";" tag-spec ) [ ";" ], each
   tag-spec [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS] */

#include <string.h>
#include "dkim.h"

static int fws (char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' ; }

int dkim_tag (char const *s, size_t len, char const *name, char const **v, size_t *vlen)
{
  size_t nlen = strlen(name), i = 0 ;
  int found = 0 ;
  while (i < len)
  {
    size_t end = i, a, b, eq ;
    while (end < len && s[end] != ';') end++ ;
    a = i ;
    while (a < end && fws(s[a])) a++ ;
    eq = a ;
    while (eq < end && s[eq] != '=') eq++ ;
    if (a == end) { i = end + 1 ; continue ; }  /* empty spec: a trailing ";" */
    if (eq == end) return -1 ;
    b = eq ;
    while (b > a && fws(s[b-1])) b-- ;
    if (b == a) return -1 ;
    if (b - a == nlen && !memcmp(s + a, name, nlen))
    {
      size_t x = eq + 1, y = end ;
      /* 3.2: a tag given twice makes the list invalid */
      if (found++) return -1 ;
      while (x < y && fws(s[x])) x++ ;
      while (y > x && fws(s[y-1])) y-- ;
      *v = s + x ;
      *vlen = y - x ;
    }
    i = end + 1 ;
  }
  return found ;
}
