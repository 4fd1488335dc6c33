/* Only tinycdb's cdb here: skalibs exports functions of the same names
   (the Makefile links -lcdb before -lskarnet), so skalibs' own cdb
   headers stay out (test_style checks). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>
#include "table.h"

int table_lookup (char const *path, char const *key, size_t keylen, stralloc *sa)
{
  int fd, r ;
  if (keylen > TABLE_KEY_MAX) return 0 ;  /* the compiler refuses such keys */
  fd = open(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) return errno == ENOENT ? 0 : -1 ;
  r = table_lookup_fd(fd, key, keylen, sa) ;
  { int e = errno ; fd_close(fd) ; errno = e ; }
  return r ;
}
