#include <errno.h>
#include <sys/socket.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "tlsd.h"

/* a step's result: OVER, MOVED, or what it waits for (IDLE: nothing) */
#define OVER (-1)
#define MOVED 0
#define W_NETR 1
#define W_NETW 2
#define W_APPR 4
#define W_APPW 8
#define IDLE 16

/* clear text one way: the next read only once the last is passed on, so
   a slow side holds the other back and at most one buffer waits */
struct half
{
  char buf[TLSD_BUF_MAX] ;
  size_t pos ;
  size_t len ;
  int eof ;
} ;

static struct half down ;       /* network to application */
static struct half up ;         /* application to network */
static int appgone = 0 ;        /* the application stopped reading */
static tain stall ;             /* when a pending network write gives up */

static int tls_want (ssize_t r)
{
  return r == TLS_WANT_POLLIN ? W_NETR : r == TLS_WANT_POLLOUT ? W_NETW : 0 ;
}

static int step_down (struct tls *c)
{
  ssize_t r ;
  if (appgone) return IDLE ;
  if (down.len)
  {
    r = fd_write(TLSD_TO_APP, down.buf + down.pos, down.len) ;
    if (r > 0) { down.pos += r ; down.len -= r ; return MOVED ; }
    if (!r || errno == EAGAIN) return W_APPW ;
    /* its read end is closed; what it still writes goes on */
    appgone = 1 ;
    down.len = 0 ;
    fd_close(TLSD_TO_APP) ;
    return MOVED ;
  }
  if (down.eof)
  {
    fd_close(TLSD_TO_APP) ;
    return OVER ;
  }
  r = tls_read(c, down.buf, sizeof(down.buf)) ;
  if (r > 0) { down.pos = 0 ; down.len = r ; return MOVED ; }
  if (tls_want(r)) return tls_want(r) ;
  down.eof = 1 ;   /* close_notify, or a lost or broken connection */
  return MOVED ;
}

static int step_up (struct tls *c)
{
  ssize_t r ;
  if (up.len)
  {
    r = tls_write(c, up.buf + up.pos, up.len) ;
    if (r > 0) { up.pos += r ; up.len -= r ; tain_addsec_g(&stall, TLSD_STALL_MAX) ; return MOVED ; }
    return tls_want(r) ? tls_want(r) : OVER ;
  }
  if (up.eof)
  {
    r = tls_close(c) ;
    if (tls_want(r)) return tls_want(r) ;
    /* the application may still hold the socket: the client sees the end now */
    if (shutdown(TLSD_NET_OUT, SHUT_WR) < 0 && errno != ENOTSOCK && errno != ENOTCONN)
      strerr_warnwu1sys("shut the connection down") ;
    return OVER ;
  }
  r = fd_read(TLSD_FROM_APP, up.buf, sizeof(up.buf)) ;
  if (r < 0 && errno == EAGAIN) return W_APPR ;
  if (r > 0) { up.pos = 0 ; up.len = r ; }
  else up.eof = 1 ;   /* the application is done (or its pipe broke) */
  tain_addsec_g(&stall, TLSD_STALL_MAX) ;
  return MOVED ;
}

static unsigned int add (iopause_fd *x, unsigned int n, int fd, short events)
{
  x[n] = (iopause_fd){ .fd = fd, .events = events } ;
  return n + 1 ;
}

int tlsd_relay (struct tls *c)
{
  if (ndelay_on(TLSD_FROM_APP) < 0 || ndelay_on(TLSD_TO_APP) < 0)
    strerr_diefu1sys(111, "make the application's descriptors non-blocking") ;
  tain_now_g() ;
  for (;;)
  {
    iopause_fd x[4] ;
    unsigned int n = 0 ;
    tain deadline ;
    int d = step_down(c), u, w, r ;
    if (d == OVER) return 0 ;
    u = step_up(c) ;
    if (u == OVER) return 0 ;
    if (d == MOVED || u == MOVED) continue ;
    w = d | u ;
    if (w & W_NETR) n = add(x, n, TLSD_NET_IN, IOPAUSE_READ) ;
    if (w & W_NETW) n = add(x, n, TLSD_NET_OUT, IOPAUSE_WRITE) ;
    if (w & W_APPR) n = add(x, n, TLSD_FROM_APP, IOPAUSE_READ) ;
    if (w & W_APPW) n = add(x, n, TLSD_TO_APP, IOPAUSE_WRITE) ;
    if (!n) strerr_dief1x(101, "relay: nothing to wait for") ;
    if (up.len || up.eof) deadline = stall ;
    else tain_add_g(&deadline, &tain_infinite_relative) ;
    r = iopause_g(x, n, &deadline) ;
    if (r < 0) strerr_diefu1sys(111, "iopause") ;
    if (!r)
    {
      strerr_warnw1x("no write to the network went through for 300 seconds: dropping the connection") ;
      return 0 ;
    }
  }
}
