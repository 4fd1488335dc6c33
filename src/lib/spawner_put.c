#include <sys/uio.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/strerr.h>
#include "spawner.h"

void spawner_put (char const *s, size_t len)
{
  struct iovec v[2] = { { .iov_base = (char *)s, .iov_len = len }, { .iov_base = "", .iov_len = 1 } } ;
  if (allwritev(1, v, 2) < len + 1) strerr_diefu1sys(111, "write results") ;
}
