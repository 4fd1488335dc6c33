#include <string.h>
#include "dkim.h"

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
    if (head[b] != ' ' && head[b] != '\t' && memchr(head + b, ':', e - b))
    {
      *start = b ; *len = e - b ; *pos = i ;
      return 1 ;
    }
  }
  *pos = i ;
  return 0 ;
}
