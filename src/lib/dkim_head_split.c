/* RFC 5322 2.1: the header section ends at the first empty line; a
   message cut short (smtpd's held part) has whole lines of it only */

#include <string.h>
#include "dkim.h"

int dkim_head_split (char const *m, size_t len, size_t *headlen, size_t *body)
{
  size_t h = 0 ;
  for (;;)
  {
    char const *e = memchr(m + h, '\n', len - h) ;
    size_t end ;
    if (!e) { *headlen = h ; *body = len ; return 0 ; }
    end = e - m ;
    if (end == h || (end == h + 1 && m[h] == '\r')) { *headlen = h ; *body = end + 1 ; return 1 ; }
    h = end + 1 ;
  }
}
