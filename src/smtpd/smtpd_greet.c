#include <string.h>
#include <unistd.h>
#include "smtpd.h"

#define EARLY "554 5.5.1 protocol error: you talked before the greeting, closing\r\n"

/* Strangers wait a moment for the end of the greeting, and one who
   talks first is dropped: a real client waits for the last line of the
   220 (RFC 5321 4.2.1), a spam engine often does not. Its first line,
   "220-", goes out at once (Postfix's postscreen does the same), so a
   client knows at once that it has a session. Trusted clients never
   wait: this host (exactly 127.0.0.1 and ::1) and RELAYCLIENT ones.
   0 if the session is over. */
int smtpd_greet_wait (void)
{
  char const *ip = smtpd_config.remoteip ;
  int r ;
  if (!smtpd_config.greetdelay || smtpd_config.relayclient
   || !strcmp(ip, "127.0.0.1") || !strcmp(ip, "::1")) return 1 ;
  {
    char line[SMTPD_REPLY_MAX + 8] ;
    size_t n = strlen(smtpd_config.greeting.s) ;  /* < SMTPD_REPLY_MAX: smtpd_conf.c */
    memcpy(line, "220-", 4) ;
    memcpy(line + 4, smtpd_config.greeting.s, n) ;
    memcpy(line + 4 + n, "\r\n", 2) ;
    /* one try, as below: a client gone shows as eof next */
    if (write(1, line, n + 6) < 0) { }
  }
  r = smtpd_io_quiet(smtpd_config.greetdelay) ;
  if (r > 0) return 1 ;
  smtpd_log_start("end") ;
  if (r < 0)
  {
    smtpd_log_put(": eof") ;
    smtpd_log_end() ;
    return 0 ;
  }
  smtpd_log_put(": talked before the greeting") ;
  smtpd_log_end() ;
  /* one try, no wait: a client gone already must not cost the worker,
     as a failed write otherwise does */
  if (write(1, EARLY, sizeof EARLY - 1) < 0) { }
  return 0 ;
}
