/* The connection's bytes: in clear text straight through skalibs'
   timed buffers, as before STARTTLS; through libtls after it, waiting
   for whichever of read or write libtls asks for (a TLS read may need
   to write and the reverse), within the same deadlines. */

#include <errno.h>
#include <sys/uio.h>
#include <tls.h>
#include <skalibs/buffer.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>
#include "remote.h"

int remote_io_wait (int fd, int want, tain const *deadline)
{
  iopause_fd x = { .fd = fd, .events = want == TLS_WANT_POLLOUT ? IOPAUSE_WRITE : IOPAUSE_READ } ;
  for (;;)
  {
    int r = iopause_g(&x, 1, deadline) ;
    if (r > 0) return 1 ;   /* an error or a hangup too: libtls will say */
    if (!r) return (errno = ETIMEDOUT, 0) ;
    if (errno != EINTR) return 0 ;
  }
}

ssize_t remote_io_fill (remote_conn *k, tain const *deadline)
{
  struct iovec v[2] ;
  if (!k->tls) return buffer_timed_fill_g(&k->in, deadline) ;
  buffer_wpeek(&k->in, v) ;
  if (!v[0].iov_len) return (errno = ENOBUFS, -1) ;
  for (;;)
  {
    ssize_t r = tls_read(k->tls, v[0].iov_base, v[0].iov_len) ;
    if (r > 0) { buffer_wseek(&k->in, r) ; return r ; }
    if (!r) return 0 ;
    if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT) return (errno = EIO, -1) ;
    if (!remote_io_wait(k->fd, r, deadline)) return -1 ;
  }
}

int remote_io_flush (remote_conn *k, tain const *deadline)
{
  if (!k->tls) return buffer_timed_flush_g(&k->out, deadline) ;
  while (buffer_len(&k->out))
  {
    struct iovec v[2] ;
    ssize_t w ;
    buffer_rpeek(&k->out, v) ;
    w = tls_write(k->tls, v[0].iov_base, v[0].iov_len) ;
    if (w > 0) buffer_rseek(&k->out, w) ;
    else if (w != TLS_WANT_POLLIN && w != TLS_WANT_POLLOUT) return (errno = EIO, 0) ;
    else if (!remote_io_wait(k->fd, w, deadline)) return 0 ;
  }
  return 1 ;
}

int remote_io_put (remote_conn *k, char const *s, size_t len, tain const *deadline)
{
  if (!k->tls) return buffer_timed_put_g(&k->out, s, len, deadline) == len ;
  for (;;)
  {
    size_t w = buffer_putnoflush(&k->out, s, len) ;
    s += w ; len -= w ;
    if (!len) return 1 ;
    if (!remote_io_flush(k, deadline)) return 0 ;
  }
}
