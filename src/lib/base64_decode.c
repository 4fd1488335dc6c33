#include "base64.h"

/* the value of a base64 character, or -1 */
static int value (char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A' ;
  if (c >= 'a' && c <= 'z') return c - 'a' + 26 ;
  if (c >= '0' && c <= '9') return c - '0' + 52 ;
  if (c == '+') return 62 ;
  if (c == '/') return 63 ;
  return -1 ;
}

ssize_t base64_decode (char *d, char const *s, size_t len)
{
  size_t n = 0 ;
  if (len % 4) return -1 ;
  for (size_t i = 0 ; i < len ; i += 4)
  {
    int v[4] ;
    unsigned int pad = 0 ;
    for (unsigned int j = 0 ; j < 4 ; j++)
    {
      if (s[i + j] == '=')
      {
        /* padding only in the last group's last two places */
        if (i + 4 != len || j < 2) return -1 ;
        pad++ ; v[j] = 0 ;
        continue ;
      }
      if (pad) return -1 ;
      v[j] = value(s[i + j]) ;
      if (v[j] < 0) return -1 ;
    }
    d[n++] = (char)(v[0] << 2 | v[1] >> 4) ;
    if (pad < 2) d[n++] = (char)((v[1] & 15) << 4 | v[2] >> 2) ;
    if (pad < 1) d[n++] = (char)((v[2] & 3) << 6 | v[3]) ;
  }
  return (ssize_t)n ;
}
