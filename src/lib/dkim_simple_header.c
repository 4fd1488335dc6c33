/* RFC 6376 3.4.1: the field exactly as it came, but that a line end
   stored as LF is CR LF on the wire, and so in the hash */

#include <skalibs/stralloc.h>
#include "dkim.h"

int dkim_simple_header (stralloc *sa, char const *s, size_t len, int crlf)
{
  if (!stralloc_readyplus(sa, 2 * len + 2)) return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    if (s[i] == '\n' && (!i || s[i-1] != '\r')) sa->s[sa->len++] = '\r' ;
    sa->s[sa->len++] = s[i] ;
  }
  if (crlf) { sa->s[sa->len++] = '\r' ; sa->s[sa->len++] = '\n' ; }
  return 1 ;
}
