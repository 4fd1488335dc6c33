/* A field is a name of printable characters but the colon (RFC 5322
   2.2; blanks may follow it, the obsolete syntax of 4.5), a colon on its
   first line, and the value; anything else is no field. */

#include <string.h>
#include "dkim.h"

static int is_field (char const *s, size_t len)
{
  size_t i = 0 ;
  while (i < len && s[i] > 32 && s[i] < 127 && s[i] != ':') i++ ;
  if (!i) return 0 ;
  while (i < len && (s[i] == ' ' || s[i] == '\t')) i++ ;
  return i < len && s[i] == ':' ;
}

int dkim_field_next (char const *head, size_t headlen, size_t *pos, size_t *start, size_t *len)
{
  size_t i = *pos ;
  while (i < headlen)
  {
    size_t b = i, e ;
    char const *nl ;
    /* one field: its first line, then every line starting with a blank */
    for (;;)
    {
      nl = memchr(head + i, '\n', headlen - i) ;
      i = nl ? (size_t)(nl - head) + 1 : headlen ;
      if (i >= headlen || (head[i] != ' ' && head[i] != '\t')) break ;
    }
    e = i ;
    if (e > b && head[e - 1] == '\n') e-- ;
    if (e > b && head[e - 1] == '\r') e-- ;
    if (is_field(head + b, e - b))
    {
      *start = b ; *len = e - b ; *pos = i ;
      return 1 ;
    }
  }
  *pos = i ;
  return 0 ;
}
