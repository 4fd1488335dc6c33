#include <errno.h>
#include <sys/uio.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include "frame.h"

int frame_get (buffer *b, stralloc *sa, size_t max)
{
  for (;;)
  {
    struct iovec v[2] ;
    size_t taken = 0 ;
    int done = 0 ;
    if (buffer_isempty(b))
    {
      ssize_t r = buffer_fill(b) ;
      if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1 ;
      if (!r) return (errno = EPIPE, -1) ;
    }
    buffer_rpeek(b, v) ;
    for (unsigned int i = 0 ; i < 2 && !done ; i++)
    {
      char const *s = v[i].iov_base ;
      for (size_t j = 0 ; j < v[i].iov_len ; j++)
      {
        /* a NUL right after a NUL (or first) is the empty field that ends it */
        int end = !s[j] && (!sa->len || !sa->s[sa->len - 1]) ;
        if (sa->len >= max) return (errno = EMSGSIZE, -1) ;
        if (!stralloc_catb(sa, s + j, 1)) return -1 ;
        taken++ ;
        if (end) { done = 1 ; break ; }
      }
    }
    buffer_rseek(b, taken) ;
    if (done) return 1 ;
  }
}
