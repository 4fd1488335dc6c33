#include <string.h>
#include <time.h>
#include <skalibs/types.h>
#include "qwrite.h"

size_t qwrite_received (char *s, pid_t pid, uid_t uid)
{
  size_t n = 0 ;
  memcpy(s, "Received: (postern ", 19) ; n = 19 ;
  n += pid_fmt(s + n, pid) ;
  memcpy(s + n, " invoked by uid ", 16) ; n += 16 ;
  n += uid_fmt(s + n, uid) ;
  memcpy(s + n, "); ", 3) ; n += 3 ;
  n += date822_fmt(s + n, time(0)) ;
  s[n++] = '\n' ;
  return n ;
}
