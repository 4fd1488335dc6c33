/* -d: one process of the tls account sets TLS up once (OpenSSL's start
   and the keypairs cost some 6 ms, a handshake about 1) and forks an
   engine for each STARTTLS: smtpd connects to the socket and passes the
   client's connection, the control socket and the two pipes (fdpass.h),
   which the engine takes as its fds 0/1, 3, 4 and 5, exactly as -e.
   tls/ is looked at before each fork, so a renewed certificate counts
   from the next connection, as with -e. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include "fdpass.h"
#include "fdplace.h"
#include "sigtrap.h"
#include "tlsd.h"

static unsigned int live = 0 ;         /* engines running */
static struct tls_config *cfg = 0 ;
static struct tls *srv = 0 ;
static unsigned long long seen = 0 ;   /* tlsd_sig() of cfg's tls/ */

static int listener (char const *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX } ;
  size_t n = strlen(path) ;
  mode_t m ;
  int fd, r ;
  if (n >= sizeof sa.sun_path) strerr_dief2x(100, "socket path too long: ", path) ;
  memcpy(sa.sun_path, path, n + 1) ;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) ;
  if (fd < 0) strerr_diefu1sys(111, "create a socket") ;
  if (unlink(path) < 0 && errno != ENOENT) strerr_diefu2sys(111, "remove ", path) ;
  /* who may connect is for the directory to say (tlsd/: smtpd's group) */
  m = umask(0) ;
  r = bind(fd, (struct sockaddr *)&sa, sizeof sa) ;
  umask(m) ;
  if (r < 0) strerr_diefu2sys(111, "bind to ", path) ;
  if (listen(fd, 64) < 0) strerr_diefu2sys(111, "listen on ", path) ;
  return fd ;
}

/* the configuration, made again if tls/ changed; a new one that fails
   leaves the last good one (warned once per change) */
static void refresh (void)
{
  unsigned long long now = tlsd_sig() ;
  struct tls_config *c ;
  struct tls *s ;
  if (srv && now == seen) return ;
  seen = now ;
  c = tlsd_config() ;
  if (!c) return ;
  s = tlsd_server(c) ;
  if (!s) { tls_config_free(c) ; return ; }
  if (srv) { tls_free(srv) ; tls_config_free(cfg) ; }
  srv = s ; cfg = c ;
}

/* one client: its four descriptors, then an engine for them */
static void serve (int lfd, int conn, unsigned int secs)
{
  struct timeval tv = { .tv_sec = TLSD_PASS_TIMEOUT } ;
  int fds[4] ;  /* the network, the control socket, from and to the application */
  pid_t pid ;
  if (setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 || fdpass_recv(conn, fds, 4) <= 0)
  {
    strerr_warnwu1sys("receive a client's descriptors") ;
    fd_close(conn) ;
    return ;
  }
  fd_close(conn) ;
  pid = fork() ;
  if (pid < 0) strerr_warnwu1sys("fork an engine") ;
  else if (!pid)
  {
    fd_close(lfd) ;
    selfpipe_finish() ;
    if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
    {
      static int const to[4] = { TLSD_NET_IN, TLSD_CTL, TLSD_FROM_APP, TLSD_TO_APP } ;
      if (!fdplace(fds, to, 4) || dup2(TLSD_NET_IN, TLSD_NET_OUT) < 0)
        strerr_diefu1sys(111, "move the engine's descriptors") ;
    }
    _exit(tlsd_engine(srv, secs)) ;
  }
  else live++ ;
  for (unsigned int i = 0 ; i < 4 ; i++) fd_close(fds[i]) ;
}

int tlsd_daemon (char const *path, unsigned int max, unsigned int secs)
{
  int sfd = sigtrap_daemon() ;
  int lfd ;
  if (sfd < 0) strerr_diefu1sys(111, "trap signals") ;
  lfd = listener(path) ;
  /* a home without a certificate yet: the socket is there all the same,
     the configuration tried again at each client */
  refresh() ;
  for (;;)
  {
    iopause_fd x[2] = { { .fd = sfd, .events = IOPAUSE_READ }, { .fd = lfd, .events = IOPAUSE_READ } } ;
    /* at the limit the backlog fills, and smtpd starts an engine itself */
    unsigned int n = live < max ? 2 : 1 ;
    if (iopause_g(x, n, 0) < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(111, "iopause") ;
    }
    if (x[0].revents & IOPAUSE_READ)
    {
      for (;;)
      {
        int sig = selfpipe_read() ;
        if (sig < 0) strerr_diefu1sys(111, "read the selfpipe") ;
        if (!sig) break ;
        if (sig == SIGCHLD)
        {
          int wstat ;
          while (wait_nohang(&wstat) > 0) if (live) live-- ;
        }
        /* engines serving clients go on without us */
        else if (sig == SIGTERM || sig == SIGINT)
        {
          unlink(path) ;
          return 0 ;
        }
      }
    }
    if (n == 2 && x[1].revents & IOPAUSE_READ)
    {
      int conn = accept4(lfd, 0, 0, SOCK_CLOEXEC) ;
      if (conn < 0)
      {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) strerr_warnwu1sys("accept") ;
        continue ;
      }
      refresh() ;
      if (!srv) { fd_close(conn) ; continue ; }
      serve(lfd, conn, secs) ;
    }
  }
}
