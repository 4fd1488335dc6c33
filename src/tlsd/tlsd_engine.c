/* one engine: nothing happens on fds 0/1 before the application's Y */

#include <errno.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/strerr.h>
#include "tlsd.h"

int tlsd_engine (struct tls *srv, unsigned int secs)
{
  char c ;
  ssize_t r = fd_read(TLSD_CTL, &c, 1) ;
  if (r < 0 && errno != ECONNRESET) strerr_diefu1sys(111, "read the control socket") ;
  if (r <= 0) return 0 ;
  if (c != 'Y' && c != 'y') strerr_dief1x(100, "the control socket sent something else than Y") ;
  /* -e: TLS is set up only now, so a session without STARTTLS costs no
     OpenSSL at all */
  if (!srv)
  {
    struct tls_config *cfg = tlsd_config() ;
    if (!cfg || !(srv = tlsd_server(cfg))) strerr_dief1x(111, "no usable TLS configuration") ;
  }
  return tlsd_relay(tlsd_handshake(srv, secs)) ;
}
