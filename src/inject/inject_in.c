/* fd 0 through one fixed buffer, shared by the header reader (whole
   lines) and the body copier (whatever is there). */

#include <errno.h>
#include <string.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "inject.h"

static char buf[INJECT_IO_MAX] ;
static size_t pos, len ;

size_t inject_in_avail (char **s)
{
  if (pos == len)
  {
    ssize_t r = fd_read(0, buf, sizeof buf) ;
    if (r < 0) strerr_diefu1sys(INJECT_ETEMP, "read the message") ;
    pos = 0 ;
    len = (size_t)r ;
  }
  *s = buf + pos ;
  return len - pos ;
}

void inject_in_consume (size_t n)
{
  pos += n ;
}

enum inject_line inject_in_line (stralloc *sa, size_t max)
{
  size_t got = 0 ;
  for (;;)
  {
    char *s, *nl ;
    size_t n = inject_in_avail(&s), k ;
    if (!n)
    {
      /* a last line without LF loses a CR at its end, as CR LF would */
      if (got && sa->s[sa->len - 1] == '\r') sa->len-- ;
      return IN_EOF ;
    }
    if (got == max) return IN_LONG ;
    k = n < max - got ? n : max - got ;
    nl = memchr(s, '\n', k) ;
    if (nl) k = (size_t)(nl - s) + 1 ;
    if (!stralloc_catb(sa, s, k)) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
    inject_in_consume(k) ;
    got += k ;
    if (nl)
    {
      if (got >= 2 && sa->s[sa->len - 2] == '\r') sa->s[--sa->len - 1] = '\n' ;
      return IN_LINE ;
    }
  }
}
