/* The listener's lines, after tcpserver -v's: an event a line on fd 2,
   which the service's log/ stamps. */

#include <string.h>
#include <skalibs/allreadwrite.h>
#include "listen.h"

/* our words, addresses, numbers and a host name: no outside bytes but
   -l and the rules' own, cut to fit */
#define LOG_MAX 1024

void listen_logv (char const *const *v, unsigned int n)
{
  char line[LOG_MAX] ;
  size_t len = 14 ;
  memcpy(line, "smtpd-listen: ", 14) ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    size_t k = strlen(v[i]) ;
    if (k > sizeof line - 1 - len) k = sizeof line - 1 - len ;
    memcpy(line + len, v[i], k) ;
    len += k ;
  }
  line[len++] = '\n' ;
  allwrite(2, line, len) ;
}
