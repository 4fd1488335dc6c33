#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include "fsx.h"

int fsx_syncdir (char const *dir)
{
  int r ;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  r = fsync(fd) ;
  fd_close(fd) ;
  return r ;
}
