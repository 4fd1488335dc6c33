#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "qctl.h"
#include "queue.h"

/* Each request is one record, "<action><id>" NUL NUL (send(8)); they
   go in writes of whole records of at most PIPE_BUF bytes, which a FIFO
   keeps whole among other writers'. */
int qctl_request (char action, stralloc const *sel)
{
  char buf[PIPE_BUF] ;
  size_t len = 0 ;
  int fd = open(QUEUE_OPS, O_WRONLY | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0)
  {
    if (errno == ENXIO) return 0 ;
    if (errno == EACCES) strerr_dief3x(100, "only root or the queue owner may write ", QUEUE_OPS, ": permission denied") ;
    strerr_diefu2sys(111, "open ", QUEUE_OPS) ;
  }
  /* send reads at its pace: wait for room rather than lose a request */
  if (ndelay_off(fd) < 0) strerr_diefu2sys(111, "make blocking ", QUEUE_OPS) ;
  for (size_t i = 0 ; i <= sel->len ; )
  {
    size_t n = i < sel->len ? strlen(sel->s + i) : 0 ;
    if (i == sel->len || len + n + 3 > sizeof buf)
    {
      if (len && allwrite(fd, buf, len) < len) strerr_diefu2sys(111, "write to ", QUEUE_OPS) ;
      len = 0 ;
      if (i == sel->len) break ;
    }
    buf[len++] = action ;
    memcpy(buf + len, sel->s + i, n) ;
    len += n ;
    buf[len++] = 0 ;
    buf[len++] = 0 ;
    i += n + 1 ;
  }
  fd_close(fd) ;
  return 1 ;
}
