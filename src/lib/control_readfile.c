#include <errno.h>
#include <string.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "control.h"

int control_readfile (stralloc *sa, char const *path)
{
  char buf[CONTROL_LINE_MAX + 1] ;
  ssize_t r = openreadnclose(path, buf, sizeof buf) ;
  char const *nl ;
  size_t n ;
  if (r < 0) return errno == ENOENT ? 0 : -1 ;
  nl = memchr(buf, '\n', r) ;
  n = nl ? (size_t)(nl - buf) : (size_t)r ;
  if (n > CONTROL_LINE_MAX || memchr(buf, 0, n)) return (errno = EINVAL, -1) ;
  while (n && (buf[n-1] == ' ' || buf[n-1] == '\t' || buf[n-1] == '\r')) n-- ;
  return stralloc_copyb(sa, buf, n) ? 1 : -1 ;
}
