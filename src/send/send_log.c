#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "logesc.h"
#include "send.h"

/* Lines go through buffer_1 and are flushed once per loop turn: the
   log pipe gets whole lines, many per write. */

static void put (char const *s, size_t len)
{
  if (buffer_put(buffer_1, s, len) < (ssize_t)len) strerr_diefu1sys(111, "write to the log") ;
}

void send_log_start (char const *s)
{
  send_log_add(s) ;
}

void send_log_add (char const *s)
{
  size_t n = 0 ;
  while (s[n]) n++ ;
  put(s, n) ;
}

/* outside bytes (addresses, agent texts) are escaped: no control byte
   or newline can forge a line for the log's readers */
void send_log_addb (char const *s, size_t len)
{
  if (len > TEXT_MAX) len = TEXT_MAX ;
  for (size_t i = 0 ; i < len ; i++)
  {
    char e[4] ;
    put(e, logesc_byte(e, (unsigned char)s[i])) ;
  }
}

void send_log_addu (unsigned long u)
{
  char fmt[ULONG_FMT] ;
  put(fmt, ulong_fmt(fmt, u)) ;
}

void send_log_end (void)
{
  put("\n", 1) ;
}

void send_log_flush (void)
{
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to the log") ;
}
