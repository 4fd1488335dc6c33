#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <skalibs/djbunix.h>
#include "fdpass.h"

int fdpass_recv (int sock, int *fds, unsigned int n)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(FDPASS_MAX * sizeof(int))] ; } u ;
  char byte ;
  struct iovec v = { .iov_base = &byte, .iov_len = 1 } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf } ;
  unsigned int got = 0 ;
  ssize_t r ;
  if (!n || n > FDPASS_MAX) return (errno = EINVAL, -1) ;
  do r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC) ;
  while (r < 0 && errno == EINTR) ;
  if (r < 0) return -1 ;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m) ; c ; c = CMSG_NXTHDR(&m, c))
  {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue ;
    unsigned int k = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)) ;
    for (unsigned int i = 0 ; i < k ; i++)
    {
      int fd ;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int)) ;
      if (got < n) fds[got] = fd ;
      else fd_close(fd) ;
      got++ ;
    }
  }
  if (!r || got != n || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
  {
    for (unsigned int i = 0 ; i < got && i < n ; i++) fd_close(fds[i]) ;
    return 0 ;
  }
  return 1 ;
}
