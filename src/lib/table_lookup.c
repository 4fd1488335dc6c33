/* Only tinycdb's cdb here: skalibs exports functions of the same names
   (the Makefile links -lcdb before -lskarnet), so skalibs' own cdb
   headers stay out (test_style checks). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <cdb.h>
#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>
#include "table.h"

int table_lookup (char const *path, char const *key, size_t keylen, stralloc *sa)
{
  char lower[TABLE_KEY_MAX] ;
  struct cdb c ;
  int fd, r ;
  if (keylen > TABLE_KEY_MAX) return 0 ;  /* the compiler refuses such keys */
  for (size_t i = 0 ; i < keylen ; i++)
    lower[i] = key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i] ;
  fd = open(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) return errno == ENOENT ? 0 : -1 ;
  if (cdb_init(&c, fd) < 0) { int e = errno ; fd_close(fd) ; errno = e ? e : EINVAL ; return -1 ; }
  r = cdb_find(&c, lower, keylen) ;
  if (r > 0)
  {
    unsigned int vlen = cdb_datalen(&c) ;
    if (vlen > TABLE_VALUE_MAX || !stralloc_ready(sa, vlen)
     || cdb_read(&c, sa->s, vlen, cdb_datapos(&c)) < 0) r = -1 ;
    else sa->len = vlen ;
    if (r < 0 && !errno) errno = EINVAL ;
  }
  cdb_free(&c) ;
  fd_close(fd) ;
  return r ;
}
