#include <errno.h>
#include <sys/uio.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/types.h>
#include "qinject.h"

/* to the writer: netstrings of at most QINJECT_CHUNK_MAX bytes, one
   writev each */
size_t qinject_write (qinject *q, char const *s, size_t len)
{
  size_t done = 0 ;
  if (q->sock < 0) return allwrite(q->msg, s, len) ;
  if (q->broken) return (errno = EPIPE, 0) ;
  while (done < len)
  {
    char head[SIZE_FMT + 1] ;
    size_t k = len - done > QINJECT_CHUNK_MAX ? QINJECT_CHUNK_MAX : len - done ;
    size_t hn = size_fmt(head, k) ;
    struct iovec v[3] ;
    head[hn++] = ':' ;
    v[0].iov_base = head ; v[0].iov_len = hn ;
    v[1].iov_base = (char *)s + done ; v[1].iov_len = k ;
    v[2].iov_base = "," ; v[2].iov_len = 1 ;
    if (allwritev(q->sock, v, 3) < hn + k + 1) { q->broken = 1 ; return done ; }
    done += k ;
  }
  return done ;
}
