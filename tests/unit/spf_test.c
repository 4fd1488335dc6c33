/* spf_test ip sender helo domain seconds: check_host() with spf_check()
   in the current directory (control/dnsservers); prints the result name
   and the lookups counted. Exits 0, 111 on error. */

#include <skalibs/buffer.h>
#include <skalibs/ip46.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "spf.h"

#define USAGE "spf_test ip sender helo domain seconds"

int main (int argc, char const *const *argv)
{
  spf_ctx c ;
  unsigned int secs ;
  enum spf_result r ;
  char fmt[UINT_FMT] ;
  PROG = "spf_test" ;
  if (argc != 6 || !ip46full_scan(argv[1], &c.ip) || !uint0_scan(argv[5], &secs)) strerr_dieusage(100, USAGE) ;
  c.sender = argv[2] ;
  c.helo = argv[3] ;
  if (!spf_dns_init()) strerr_diefu1x(111, "set up c-ares") ;
  tain_now_set_stopwatch_g() ;
  tain_addsec_g(&c.deadline, secs) ;
  r = spf_check(&c, argv[4]) ;
  buffer_puts(buffer_1, spf_result_name(r)) ;
  buffer_puts(buffer_1, " ") ;
  buffer_put(buffer_1, fmt, uint_fmt(fmt, c.lookups)) ;
  buffer_putflush(buffer_1, "\n", 1) ;
  return 0 ;
}
