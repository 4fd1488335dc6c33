/* RFC 6376 3.4.4: each run of blanks one space, none at the end of a
   line, empty lines at the end of the body dropped (held in b->blanks
   until a line with text comes) */

#include <openssl/evp.h>
#include "dkim.h"

/* a line of the body is at most this long as sent (remote folds at 998) */
#define LINE_CHUNK 1024

int dkim_body_line (dkim_body *b, char const *s, size_t len)
{
  char out[LINE_CHUNK] ;
  size_t n = 0 ;
  int blank = 0 ;
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len-- ;
  if (!len) { b->blanks++ ; return 1 ; }
  for (; b->blanks ; b->blanks--)
    if (!EVP_DigestUpdate(b->md, "\r\n", 2)) return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    if (s[i] == ' ' || s[i] == '\t') { blank = 1 ; continue ; }
    if (n + 2 > sizeof out)
    {
      if (!EVP_DigestUpdate(b->md, out, n)) return 0 ;
      n = 0 ;
    }
    if (blank) out[n++] = ' ' ;
    blank = 0 ;
    out[n++] = s[i] ;
  }
  return EVP_DigestUpdate(b->md, out, n) && EVP_DigestUpdate(b->md, "\r\n", 2) ;
}
