/* ucspi-tcp's rules (tcprules(1)), read as tcpserver -x reads them:
   keys are the client's address, then its shorter and shorter prefixes
   ending with a '.' (IPv4) or a ':' (IPv6, as ucspi-tcp-ipv6 does), then
   the empty key; the first key found decides. Its value is NUL-ended
   items: "D" denies, "+NAME=value" sets a variable. No name lookups:
   the "=host" keys are never tried (tcpserver -H). Only tinycdb's cdb
   here (skalibs exports cdb_* too: the Makefile links -lcdb first). */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <cdb.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "tcprules.h"

/* -1: error, 0: not found, 1: found, value in buf */
static int find (struct cdb *c, char const *key, size_t len, char *buf, unsigned int *vlen)
{
  int r = cdb_find(c, key, (unsigned int)len) ;
  if (r <= 0) return r ;
  *vlen = cdb_datalen(c) ;
  if (*vlen > TCPRULES_VALUE_MAX) return (errno = EMSGSIZE, -1) ;
  if (cdb_read(c, buf, *vlen, cdb_datapos(c)) < 0) return -1 ;
  return 1 ;
}

static int apply (char const *v, unsigned int len, stralloc *vars)
{
  unsigned int i = 0 ;
  while (i < len)
  {
    char const *item = v + i ;
    char const *end = memchr(item, 0, len - i) ;
    size_t n = end ? (size_t)(end - item) : len - i ;
    if (n && item[0] == 'D') return 0 ;
    if (n > 1 && item[0] == '+' && memchr(item + 1, '=', n - 1)
     && (!stralloc_catb(vars, item + 1, n - 1) || !stralloc_0(vars))) return -1 ;
    i += (unsigned int)n + 1 ;
  }
  return 1 ;
}

int tcprules_lookup (char const *path, char const *ip, stralloc *vars)
{
  char buf[TCPRULES_VALUE_MAX] ;
  unsigned int vlen = 0 ;
  struct cdb c ;
  size_t len = strlen(ip) ;
  int r, fd = open(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  if (cdb_init(&c, fd) < 0) { int e = errno ; fd_close(fd) ; return (errno = e ? e : EINVAL, -1) ; }
  r = find(&c, ip, len, buf, &vlen) ;
  for (size_t j = len ; !r && j ; j--)
    if (ip[j - 1] == '.' || ip[j - 1] == ':') r = find(&c, ip, j, buf, &vlen) ;
  if (!r) r = find(&c, "", 0, buf, &vlen) ;
  cdb_free(&c) ;
  fd_close(fd) ;
  if (r < 0) return -1 ;
  return r ? apply(buf, vlen, vars) : 1 ;
}
