#include <errno.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "qscan.h"

int qscan_read (int fd, stralloc *sa, size_t max)
{
  sa->len = 0 ;
  for (;;)
  {
    ssize_t r ;
    /* one byte past max tells a file of max bytes from a longer one */
    if (!stralloc_readyplus(sa, 65536)) return 0 ;
    r = read(fd, sa->s + sa->len, sa->a - sa->len > max + 1 - sa->len ? max + 1 - sa->len : sa->a - sa->len) ;
    if (r < 0) { if (errno == EINTR) continue ; return 0 ; }
    if (!r) return 1 ;
    sa->len += (size_t)r ;
    if (sa->len > max) return (errno = EFBIG, 0) ;
  }
}
