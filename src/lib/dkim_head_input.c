/* RFC 6376 5.4.2: a name listed n times takes the n last fields of
   that name, last first; a name listed more times than present adds
   nothing (the oversigned From) */

#include <string.h>
#include <skalibs/stralloc.h>
#include "dkim.h"

/* the fields of a header section a signer reads: more are not signed */
#define FIELDS_MAX 1000

static int same (char const *a, size_t alen, char const *b, size_t blen)
{
  while (alen && (a[alen - 1] == ' ' || a[alen - 1] == '\t')) alen-- ;
  while (blen && (b[blen - 1] == ' ' || b[blen - 1] == '\t')) blen-- ;
  while (blen && (*b == ' ' || *b == '\t')) { b++ ; blen-- ; }
  return alen == blen && !strncasecmp(a, b, alen) ;
}

int dkim_head_input (stralloc *sa, char const *head, size_t headlen, char const *h, size_t hlen, int simple)
{
  size_t start[FIELDS_MAX], len[FIELDS_MAX], pos = 0 ;
  char used[FIELDS_MAX] ;
  unsigned int n = 0 ;
  while (n < FIELDS_MAX && dkim_field_next(head, headlen, &pos, start + n, len + n)) n++ ;
  memset(used, 0, n) ;
  for (size_t i = 0 ; i < hlen ;)
  {
    size_t j = i ;
    while (j < hlen && h[j] != ':') j++ ;
    for (unsigned int f = n ; f-- ;)
    {
      char const *s = head + start[f] ;
      size_t colon = (char const *)memchr(s, ':', len[f]) - s ;
      if (used[f] || !same(s, colon, h + i, j - i)) continue ;
      used[f] = 1 ;
      if (!(simple ? dkim_simple_header(sa, s, len[f], 1) : dkim_relax_header(sa, s, len[f], 1))) return 0 ;
      break ;
    }
    i = j + 1 ;
  }
  return 1 ;
}
