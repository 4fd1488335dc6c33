/* One line per event on fd 2 (postern's log services stamp it); bytes
   from the client are escaped and cut, so a line is always one line. */

#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/types.h>
#include "logesc.h"
#include "smtpd.h"

/* a log line: keyword, pid, two addresses and a reply fit with room */
#define LOG_MAX 2048
/* one string from outside: at most this many bytes of it are shown */
#define LOG_STR_MAX 1000

static char line[LOG_MAX] ;
static size_t len = 0 ;

static void put (char const *s, size_t n)
{
  if (n > sizeof line - 1 - len) n = sizeof line - 1 - len ;
  memcpy(line + len, s, n) ;
  len += n ;
}

void smtpd_log_put (char const *s)
{
  put(s, strlen(s)) ;
}

void smtpd_log_start (char const *keyword)
{
  char fmt[PID_FMT] ;
  len = 0 ;
  smtpd_log_put(keyword) ;
  put(" pid ", 5) ;
  put(fmt, pid_fmt(fmt, getpid())) ;
}

void smtpd_log_str (char const *s, size_t n)
{
  if (n > LOG_STR_MAX) n = LOG_STR_MAX ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char e[4] ;
    put(e, logesc_byte(e, (unsigned char)s[i])) ;
  }
}

void smtpd_log_end (void)
{
  line[len++] = '\n' ;
  allwrite(2, line, len) ;
  len = 0 ;
}
