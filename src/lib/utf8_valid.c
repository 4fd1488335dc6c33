#include "utf8.h"

int utf8_valid (char const *s, size_t len)
{
  size_t i = 0 ;
  while (i < len)
  {
    unsigned char c = (unsigned char)s[i] ;
    unsigned long cp ;
    size_t n ;
    if (c < 0x80) { i++ ; continue ; }
    if (c >= 0xc2 && c <= 0xdf) { n = 1 ; cp = c & 0x1f ; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2 ; cp = c & 0x0f ; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3 ; cp = c & 0x07 ; }
    else return 0 ;  /* a continuation byte first, 0xc0/0xc1 (overlong), past 0xf4 */
    if (len - i - 1 < n) return 0 ;
    for (size_t k = 1 ; k <= n ; k++)
    {
      unsigned char d = (unsigned char)s[i + k] ;
      if ((d & 0xc0) != 0x80) return 0 ;
      cp = cp << 6 | (d & 0x3f) ;
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return 0 ;  /* overlong */
    if (cp >= 0xd800 && cp <= 0xdfff) return 0 ;
    if (cp > 0x10ffff || cp < 0xa0) return 0 ;  /* past Unicode; C1 controls */
    i += n + 1 ;
  }
  return 1 ;
}
