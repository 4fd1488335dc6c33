#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "tlsd.h"

static char const *err (struct tls *c)
{
  char const *e = tls_error(c) ;
  return e ? e : "unknown error" ;
}

/* libtls's own text may already start so */
static void failed (char const *why)
{
  static char const pre[] = "handshake failed: " ;
  if (!strncmp(why, pre, sizeof(pre) - 1)) why += sizeof(pre) - 1 ;
  strerr_die(1, PROG, ": ", pre, why) ;
}

static int add (stralloc *sa, char const *name, char const *value)
{
  return stralloc_cats(sa, name) && stralloc_cats(sa, value) && stralloc_0(sa) ;
}

/* the UCSPI-TLS environment block: NAME=value fields, each NUL-ended,
   then an empty one */
static void block (struct tls *c)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *sni = tls_conn_servername(c) ;
  char const *v = tls_conn_version(c), *ci = tls_conn_cipher(c) ;
  char bits[INT_FMT] ;
  bits[int_fmt(bits, tls_conn_cipher_strength(c))] = 0 ;
  if (!add(&sa, "SSL_PROTOCOL=", v ? v : "unknown")
   || !add(&sa, "SSL_CIPHER=", ci ? ci : "unknown")
   || !add(&sa, "SSL_CIPHER_BITS=", bits)
   || (sni && *sni && !add(&sa, "SSL_TLS_SNI_SERVERNAME=", sni))
   || (tls_conn_session_resumed(c) && !add(&sa, "SSL_SESSION_REUSED=", "1"))
   || !stralloc_0(&sa))
    strerr_diefu1sys(111, "make the environment block") ;
  if (allwrite(TLSD_CTL, sa.s, sa.len) < sa.len) strerr_diefu1sys(111, "write the environment block") ;
  fd_close(TLSD_CTL) ;
  stralloc_free(&sa) ;
}

struct tls *tlsd_server (struct tls_config *cfg)
{
  struct tls *srv = tls_server() ;
  if (!srv) { strerr_warnwu1x("create a TLS context: out of memory") ; return 0 ; }
  if (tls_configure(srv, cfg) < 0)
  {
    strerr_warnwu2x("configure TLS: ", err(srv)) ;
    tls_free(srv) ;
    return 0 ;
  }
  return srv ;
}

struct tls *tlsd_handshake (struct tls *srv, unsigned int secs)
{
  struct tls *c ;
  tain deadline ;
  if (ndelay_on(TLSD_NET_IN) < 0 || ndelay_on(TLSD_NET_OUT) < 0)
    strerr_diefu1sys(111, "make the network descriptors non-blocking") ;
  /* each record goes out whole in one write: Nagle would hold a reply
     that follows the session tickets until the client's delayed ACK,
     40 ms a command. Not a TCP socket (a test's pipe): nothing to do. */
  {
    int one = 1 ;
    (void)setsockopt(TLSD_NET_OUT, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ;
  }
  if (tls_accept_fds(srv, &c, TLSD_NET_IN, TLSD_NET_OUT) < 0)
    strerr_diefu(111, "accept a TLS connection: ", err(srv)) ;
  tain_now_g() ;
  tain_addsec_g(&deadline, secs) ;
  for (;;)
  {
    iopause_fd x = { .fd = TLSD_NET_IN, .events = IOPAUSE_READ } ;
    int r = tls_handshake(c) ;
    if (!r) break ;
    if (r == TLS_WANT_POLLOUT) x = (iopause_fd){ .fd = TLSD_NET_OUT, .events = IOPAUSE_WRITE } ;
    else if (r != TLS_WANT_POLLIN) failed(err(c)) ;
    r = iopause_g(&x, 1, &deadline) ;
    if (r < 0) strerr_diefu1sys(111, "iopause") ;
    if (!r) failed("timed out") ;
  }
  block(c) ;
  return c ;
}
