/* RFC 6376 3.4.2: name lowercased, blanks around the colon removed,
   unfolded, each run of blanks one space, none at the end */

#include <skalibs/bytestr.h>
#include <skalibs/stralloc.h>
#include "dkim.h"

int dkim_relax_header (stralloc *sa, char const *s, size_t len, int crlf)
{
  size_t i = 0, n ;
  int blank = 0 ;
  while (i < len && s[i] != ':') i++ ;
  n = i ;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n-- ;
  if (!stralloc_readyplus(sa, n + len + 3)) return 0 ;
  for (size_t j = 0 ; j < n ; j++)
  {
    char c = s[j] ;
    sa->s[sa->len++] = c >= 'A' && c <= 'Z' ? c + 32 : c ;
  }
  sa->s[sa->len++] = ':' ;
  if (i < len) i++ ;
  /* blanks after the colon go: as if the value began with a blank run */
  blank = 0 ;
  n = sa->len ;
  for (; i < len ; i++)
  {
    char c = s[i] ;
    if (c == '\r' || c == '\n') continue ;
    if (c == ' ' || c == '\t') { blank = 1 ; continue ; }
    if (blank && sa->len > n) sa->s[sa->len++] = ' ' ;
    blank = 0 ;
    sa->s[sa->len++] = c ;
  }
  if (crlf) { sa->s[sa->len++] = '\r' ; sa->s[sa->len++] = '\n' ; }
  return 1 ;
}
