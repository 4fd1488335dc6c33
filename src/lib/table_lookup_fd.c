/* tinycdb's cdb only (see table_lookup.c) */
#include <errno.h>
#include <cdb.h>
#include <skalibs/stralloc.h>
#include "table.h"

int table_lookup_fd (int fd, char const *key, size_t keylen, stralloc *sa)
{
  char lower[TABLE_KEY_MAX] ;
  struct cdb c ;
  int r ;
  if (keylen > TABLE_KEY_MAX) return 0 ;  /* the compiler refuses such keys */
  for (size_t i = 0 ; i < keylen ; i++)
    lower[i] = key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i] ;
  if (cdb_init(&c, fd) < 0) { if (!errno) errno = EINVAL ; return -1 ; }
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
  return r ;
}
