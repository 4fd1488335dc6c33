#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "fdpass.h"

int fdpass_send (int sock, int const *fds, unsigned int n)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(FDPASS_MAX * sizeof(int))] ; } u ;
  char byte = 'F' ;
  struct iovec v = { .iov_base = &byte, .iov_len = 1 } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = CMSG_SPACE(n * sizeof(int)) } ;
  struct cmsghdr *c ;
  ssize_t r ;
  if (!n || n > FDPASS_MAX) return (errno = EINVAL, 0) ;
  memset(u.buf, 0, sizeof u.buf) ;
  c = CMSG_FIRSTHDR(&m) ;
  c->cmsg_level = SOL_SOCKET ;
  c->cmsg_type = SCM_RIGHTS ;
  c->cmsg_len = CMSG_LEN(n * sizeof(int)) ;
  memcpy(CMSG_DATA(c), fds, n * sizeof(int)) ;
  do r = sendmsg(sock, &m, MSG_NOSIGNAL) ;
  while (r < 0 && errno == EINTR) ;
  return r == 1 ;
}
