#include <fcntl.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include "fsx.h"

int fsx_syncfs (char const *path)
{
  int r ;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  r = syncfs(fd) ;
  fd_close(fd) ;
  return r ;
}
