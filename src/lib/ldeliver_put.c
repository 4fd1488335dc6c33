#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "ldeliver.h"

int ldeliver_put (int sock, int body, char const *const *f)
{
  struct iovec v[LDELIVER_FIELDS] ;
  union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int))] ; } c ;
  struct msghdr m = { .msg_iov = v, .msg_iovlen = LDELIVER_FIELDS, .msg_control = c.buf, .msg_controllen = sizeof c.buf } ;
  struct cmsghdr *h ;
  for (unsigned int i = 0 ; i < LDELIVER_FIELDS ; i++)
  {
    size_t len = strlen(f[i]) ;
    if (len > (i == 1 ? LDELIVER_HOME_MAX : LDELIVER_FIELD_MAX)) return (errno = ENAMETOOLONG, 0) ;
    v[i].iov_base = (char *)f[i] ;
    v[i].iov_len = len + 1 ;
  }
  memset(c.buf, 0, sizeof c.buf) ;
  h = CMSG_FIRSTHDR(&m) ;
  h->cmsg_level = SOL_SOCKET ;
  h->cmsg_type = SCM_RIGHTS ;
  h->cmsg_len = CMSG_LEN(sizeof(int)) ;
  memcpy(CMSG_DATA(h), &body, sizeof(int)) ;
  if (sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1 ;
  return 1 ;
}
