/* a tag's value (RFC 6376 3.2) as base64 and lists are read: folding
   white space anywhere in it is no part of it */

#include "dkim.h"

size_t dkim_squeeze (char *d, size_t max, char const *v, size_t vlen)
{
  size_t n = 0 ;
  for (size_t i = 0 ; i < vlen ; i++)
  {
    if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n') continue ;
    if (n == max) return max + 1 ;
    d[n++] = v[i] ;
  }
  return n ;
}
