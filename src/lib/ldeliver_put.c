#include <errno.h>
#include <string.h>
#include "ldeliver.h"
#include "wpool.h"

int ldeliver_put (int sock, int body, char const *const *f)
{
  char buf[LDELIVER_REQ_MAX] ;
  size_t len = 0 ;
  for (unsigned int i = 0 ; i < LDELIVER_FIELDS ; i++)
  {
    size_t n = strlen(f[i]) ;
    if (n > (i == 1 ? LDELIVER_HOME_MAX : LDELIVER_FIELD_MAX)) return (errno = ENAMETOOLONG, 0) ;
    memcpy(buf + len, f[i], n + 1) ;
    len += n + 1 ;
  }
  /* lspawn's end of the pair is non-blocking: a full socket is EAGAIN */
  if (wpool_sendfd(sock, body, buf, len)) return 1 ;
  return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1 ;
}
