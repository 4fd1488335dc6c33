#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <skalibs/djbunix.h>
#include "wpool.h"

ssize_t wpool_recvfd (int fd, int *pass, char *s, size_t max, int flags)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int))] ; } u ;
  struct iovec v = { .iov_base = s, .iov_len = max } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf } ;
  struct cmsghdr *c ;
  ssize_t r ;
  *pass = -1 ;
  do r = recvmsg(fd, &m, flags | MSG_CMSG_CLOEXEC) ;
  while (r < 0 && errno == EINTR) ;
  if (r <= 0) return r ;
  for (c = CMSG_FIRSTHDR(&m) ; c ; c = CMSG_NXTHDR(&m, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int)))
      memcpy(pass, CMSG_DATA(c), sizeof(int)) ;
  if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
  {
    if (*pass >= 0) fd_close(*pass) ;
    *pass = -1 ;
    return (errno = EMSGSIZE, -1) ;
  }
  return r ;
}
