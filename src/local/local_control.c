#include <errno.h>
#include <string.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "home.h"
#include "local.h"

/* control_readline() opens control/name relative to the cwd; local's cwd
   is the recipient's home, so it builds the absolute path instead */
int local_control_readline (stralloc *sa, char const *name)
{
  stralloc path = STRALLOC_ZERO ;
  char buf[CONTROL_LINE_MAX + 1] ;
  ssize_t r ;
  size_t n ;
  if (!stralloc_cats(&path, home_dir()) || !stralloc_cats(&path, "/" CONTROL_DIR "/")
   || !stralloc_cats(&path, name) || !stralloc_0(&path))
  {
    stralloc_free(&path) ;
    return -1 ;
  }
  r = openreadnclose(path.s, buf, sizeof buf) ;
  stralloc_free(&path) ;
  if (r < 0) return errno == ENOENT ? 0 : -1 ;
  n = memchr(buf, '\n', r) ? (size_t)((char *)memchr(buf, '\n', r) - buf) : (size_t)r ;
  if (n > CONTROL_LINE_MAX || memchr(buf, 0, n)) return (errno = EINVAL, -1) ;
  while (n && (buf[n-1] == ' ' || buf[n-1] == '\t' || buf[n-1] == '\r')) n-- ;
  return stralloc_copyb(sa, buf, n) ? 1 : -1 ;
}
