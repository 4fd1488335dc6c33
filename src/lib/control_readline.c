#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>
#include "control.h"

int control_readline (stralloc *sa, char const *name)
{
  char path[sizeof(CONTROL_DIR) + 256] ;
  char buf[CONTROL_LINE_MAX + 1] ;
  size_t namelen = strlen(name) ;
  ssize_t r ;
  size_t n ;
  if (namelen > 255) return (errno = ENAMETOOLONG, -1) ;
  memcpy(path, CONTROL_DIR "/", sizeof(CONTROL_DIR)) ;
  memcpy(path + sizeof(CONTROL_DIR), name, namelen + 1) ;
  r = openreadnclose(path, buf, sizeof buf) ;
  if (r < 0) return errno == ENOENT ? 0 : -1 ;
  n = memchr(buf, '\n', r) ? (size_t)((char *)memchr(buf, '\n', r) - buf) : (size_t)r ;
  if (n > CONTROL_LINE_MAX || memchr(buf, 0, n)) return (errno = EINVAL, -1) ;
  while (n && (buf[n-1] == ' ' || buf[n-1] == '\t' || buf[n-1] == '\r')) n-- ;
  if (!stralloc_copyb(sa, buf, n)) return -1 ;
  return 1 ;
}
