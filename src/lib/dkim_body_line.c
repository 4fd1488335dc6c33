/* RFC 6376 3.4.3 (simple: lines unchanged) and 3.4.4 (relaxed: each
   run of blanks one space, none at the end of a line); in both, empty
   lines at the end of the body dropped (held in b->blanks until a line
   with text comes); at most b->left bytes hashed (l=, 3.5) */

#include <openssl/evp.h>
#include "dkim.h"

/* a line of the body is at most this long as sent (remote folds at 998) */
#define LINE_CHUNK 1024

static int put (dkim_body *b, char const *s, size_t n)
{
  if (n > b->left) n = b->left ;
  b->left -= n ;
  return !n || EVP_DigestUpdate(b->md, s, n) ;
}

int dkim_body_line (dkim_body *b, char const *s, size_t len)
{
  char out[LINE_CHUNK] ;
  size_t n = 0 ;
  int blank = 0 ;
  if (!b->simple) while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len-- ;
  if (!len) { b->blanks++ ; return 1 ; }
  b->any = 1 ;
  for (; b->blanks ; b->blanks--)
    if (!put(b, "\r\n", 2)) return 0 ;
  if (b->simple) return put(b, s, len) && put(b, "\r\n", 2) ;
  for (size_t i = 0 ; i < len ; i++)
  {
    if (s[i] == ' ' || s[i] == '\t') { blank = 1 ; continue ; }
    if (n + 2 > sizeof out)
    {
      if (!put(b, out, n)) return 0 ;
      n = 0 ;
    }
    if (blank) out[n++] = ' ' ;
    blank = 0 ;
    out[n++] = s[i] ;
  }
  return put(b, out, n) && put(b, "\r\n", 2) ;
}
