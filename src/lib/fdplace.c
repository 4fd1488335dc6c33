#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include "fdplace.h"

/* a few descriptors of a child about to exec: an engine's five */
#define FDPLACE_MAX 8

int fdplace (int const *from, int const *to, unsigned int n)
{
  int tmp[FDPLACE_MAX] ;
  int above = 0 ;
  if (n > FDPLACE_MAX) return (errno = EINVAL, 0) ;
  for (unsigned int i = 0 ; i < n ; i++) if (to[i] >= above) above = to[i] + 1 ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    tmp[i] = fcntl(from[i], F_DUPFD_CLOEXEC, above) ;
    if (tmp[i] < 0) return 0 ;
  }
  for (unsigned int i = 0 ; i < n ; i++) fd_close(from[i]) ;
  for (unsigned int i = 0 ; i < n ; i++)
    if (dup2(tmp[i], to[i]) < 0) return 0 ;
  for (unsigned int i = 0 ; i < n ; i++) fd_close(tmp[i]) ;
  return 1 ;
}
