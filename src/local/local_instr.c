#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "local.h"
#include "resolve.h"

/* an instruction file is at most this big (a long forward list fits) */
#define INSTR_MAX 65536

/* 1 read, 0 absent, -1 error (*t set) */
static int try (stralloc *file, stralloc const *name, stralloc *t)
{
  struct stat st ;
  size_t r ;
  int fd = open(name->s, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) ;
  if (fd < 0) return errno == ENOENT ? 0 : (local_temp(t, "open ", name->s), -1) ;
  if (fstat(fd, &st) < 0) { local_temp(t, "stat ", name->s) ; goto err ; }
  if (!S_ISREG(st.st_mode)) { local_say(t, LOCAL_TEMP, "4.7.0 ", name->s, " is not a regular file") ; goto err ; }
  /* anyone could make the recipient run programs (qmail-local's check) */
  if (st.st_mode & S_IWOTH) { local_say(t, LOCAL_TEMP, "4.7.0 ", name->s, " is world-writable") ; goto err ; }
  if (st.st_size > INSTR_MAX) { local_say(t, LOCAL_TEMP, "4.2.0 ", name->s, " is larger than 65536 bytes") ; goto err ; }
  if (!stralloc_ready(file, INSTR_MAX + 1)) { local_temp(t, "read ", name->s) ; goto err ; }
  errno = 0 ;
  r = allread(fd, file->s, INSTR_MAX + 1) ;
  if (errno) { local_temp(t, "read ", name->s) ; goto err ; }
  if (r > INSTR_MAX) { local_say(t, LOCAL_TEMP, "4.2.0 ", name->s, " is larger than 65536 bytes") ; goto err ; }
  file->len = r ;
  fd_close(fd) ;
  return 1 ;
 err:
  fd_close(fd) ;
  return -1 ;
}

/* .postern for an empty EXT; else .postern- and each name
   resolve_ext_next() gives (EXT, PREFIX-default..., default), the first
   that exists: no name leaves the home or hides as a dot file */
int local_instr_read (local_ctx const *c, stralloc *file, stralloc *name, stralloc *t)
{
  struct stat st ;
  size_t extlen = strlen(c->ext), next = 0 ;
  int r = 0 ;
  /* a home others can write lets them write its instruction files */
  if (stat(".", &st) < 0) return (local_temp(t, "stat the home directory ", c->home), -1) ;
  if (st.st_mode & S_IWOTH) return (local_say(t, LOCAL_TEMP, "4.7.0 home directory ", c->home, " is world-writable"), -1) ;
  if (!stralloc_copys(name, extlen ? ".postern-" : ".postern") || (!extlen && !stralloc_0(name)))
    return (local_temp(t, "allocate", ""), -1) ;
  if (!extlen) return try(file, name, t) ;
  while (!r)
  {
    int n = resolve_ext_next(name, 9, c->ext, extlen, &next) ;
    if (n < 0) return (local_temp(t, "allocate", ""), -1) ;
    if (!n) break ;
    r = try(file, name, t) ;
  }
  return r ;
}
