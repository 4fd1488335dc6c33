#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "wpool.h"

int wpool_sendfd (int fd, int pass, char const *s, size_t len)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int))] ; } u ;
  struct iovec v = { .iov_base = (void *)s, .iov_len = len } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 } ;
  ssize_t r ;
  if (pass >= 0)
  {
    memset(&u, 0, sizeof u) ;
    m.msg_control = u.buf ;
    m.msg_controllen = sizeof u.buf ;
    u.h.cmsg_level = SOL_SOCKET ;
    u.h.cmsg_type = SCM_RIGHTS ;
    u.h.cmsg_len = CMSG_LEN(sizeof(int)) ;
    memcpy(CMSG_DATA(&u.h), &pass, sizeof(int)) ;
  }
  do r = sendmsg(fd, &m, MSG_NOSIGNAL) ;
  while (r < 0 && errno == EINTR) ;
  if (r < 0) return 0 ;
  if ((size_t)r != len) return (errno = EMSGSIZE, 0) ;
  return 1 ;
}
