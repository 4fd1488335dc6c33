#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "ldeliver.h"
#include "wpool.h"

int ldeliver_get (int sock, char *buf, char const **f, int *body, int flags)
{
  size_t pos = 0 ;
  ssize_t r = wpool_recvfd(sock, body, buf, LDELIVER_REQ_MAX + 1, flags) ;
  if (r < 0) return errno == EMSGSIZE ? (errno = EPROTO, -1) : -1 ;
  if (!r) return 0 ;
  if (*body < 0) goto bad ;
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
