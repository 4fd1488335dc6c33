/* Only tinycdb's cdb here (the team's notes on dependencies): skalibs'
   cdb stays out. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <cdb.h>
#include <skalibs/bytestr.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "addr.h"
#include "rcpt.h"
#include "resolve.h"

/* the flags of a name: 1 and its letters in v (at most 8), 0, -1 */
static int flags (struct cdb *c, char const *key, size_t len, char *v)
{
  unsigned int n ;
  int r = cdb_find(c, key, len) ;
  if (r <= 0) return r ? -1 : 0 ;
  n = cdb_datalen(c) ;
  if (n > 7) n = 7 ;
  if (cdb_read(c, v, n, cdb_datapos(c)) < 0) return -1 ;
  v[n] = 0 ;
  return 1 ;
}

/* user (len bytes) has a file for ext: the names local(8) tries */
static int extfile (struct cdb *c, char const *user, size_t len, char const *ext, size_t extlen)
{
  stralloc key = STRALLOC_ZERO ;
  size_t next = 0 ;
  int r = 0 ;
  if (!stralloc_catb(&key, user, len) || !stralloc_0(&key)) return -1 ;
  while (!r)
  {
    int n = resolve_ext_next(&key, len + 1, ext, extlen, &next) ;
    if (n <= 0) { r = n ; break ; }
    r = cdb_find(c, key.s, key.len - 1) ;
  }
  stralloc_free(&key) ;
  return r ;
}

static int bytable (struct cdb *c, char *name, size_t len)
{
  char delims[RESOLVE_DELIMS_MAX + 1] ;
  char v[8] ;
  size_t i = len ;
  int r = flags(c, name, len, v) ;
  if (r < 0) return -1 ;
  if (r) return strchr(v, RCPT_ALIAS) || strchr(v, RCPT_USER) ? RCPT_KNOWN : RCPT_ROOT ;
  if (resolve_delims(delims) < 0) return -1 ;
  for (;;)
  {
    do if (!--i) return RCPT_UNKNOWN ; while (!strchr(delims, name[i])) ;
    r = flags(c, name, i, v) ;
    if (r < 0) return -1 ;
    /* an alias counts by its whole name only, a user by a prefix */
    if (!r || (!strchr(v, RCPT_USER) && !strchr(v, RCPT_ROOTUSER))) continue ;
    if (strchr(v, RCPT_ROOTUSER)) return RCPT_ROOT ;
    if (strchr(v, RCPT_ANYEXT) || i + 1 == len) return RCPT_KNOWN ;
    r = extfile(c, name, i, name + i + 1, len - i - 1) ;
    return r < 0 ? -1 : r ? RCPT_KNOWN : RCPT_UNKNOWN ;
  }
}

int rcpt_known (char const *localname, size_t len, int *notable)
{
  static resolve_dest d = RESOLVE_DEST_ZERO ;
  char name[ADDR_MAX + 1] ;
  struct cdb c ;
  int fd, r ;
  *notable = 0 ;
  if (!len || len > ADDR_MAX || memchr(localname, 0, len)) return RCPT_UNKNOWN ;
  fd = open(RCPT_TABLE, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0)
  {
    if (errno != ENOENT) return -1 ;
    *notable = 1 ;
    r = resolve_local(&d, localname, len) ;
    if (r <= 0) return r ;
    return d.kind == RESOLVE_USER && !d.uid ? RCPT_ROOT : RCPT_KNOWN ;
  }
  if (cdb_init(&c, fd) < 0) { int e = errno ; fd_close(fd) ; errno = e ? e : EINVAL ; return -1 ; }
  memcpy(name, localname, len) ;
  name[len] = 0 ;
  case_lowerb(name, len) ;
  r = bytable(&c, name, len) ;
  if (r < 0 && !errno) errno = EINVAL ;
  cdb_free(&c) ;
  fd_close(fd) ;
  return r ;
}
