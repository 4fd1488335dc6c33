#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "ldeliver.h"

int ldeliver_get (int sock, char *buf, char const **f, int *body, int flags)
{
  struct iovec v = { .iov_base = buf, .iov_len = LDELIVER_REQ_MAX + 1 } ;
  union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int))] ; } c ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf } ;
  struct cmsghdr *h ;
  size_t pos = 0 ;
  ssize_t r ;
  *body = -1 ;
  do r = recvmsg(sock, &m, flags | MSG_CMSG_CLOEXEC) ;
  while (r < 0 && errno == EINTR) ;
  if (r < 0) return -1 ;
  if (!r) return 0 ;
  h = CMSG_FIRSTHDR(&m) ;
  if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
    memcpy(body, CMSG_DATA(h), sizeof(int)) ;
  if (*body < 0 || m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) goto bad ;
  for (unsigned int i = 0 ; i < LDELIVER_FIELDS ; i++)
  {
    char const *z = pos < (size_t)r ? memchr(buf + pos, 0, (size_t)r - pos) : 0 ;
    if (!z || (size_t)(z - buf) - pos > (i == 1 ? LDELIVER_HOME_MAX : LDELIVER_FIELD_MAX)) goto bad ;
    f[i] = buf + pos ;
    pos = (size_t)(z - buf) + 1 ;
  }
  if (pos != (size_t)r) goto bad ;
  return 1 ;
 bad:
  if (*body >= 0) close(*body) ;
  *body = -1 ;
  return (errno = EPROTO, -1) ;
}
