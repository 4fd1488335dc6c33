/* STARTTLS over UCSPI-TLS (s6-networking's interface): the TLS engine
   is another process, under another account, and only it reads the
   key; smtpd never links TLS. Either a launcher gave us SSLCTLFD,
   SSLREADFD and SSLWRITEFD, or we make the same three ends and hand
   them, with the client's connection, to the tls service's daemon
   (tlsd -d, over tlsd/socket), or else start bin/tlsd -e ourselves
   with them as its fds 3, 4, 5. We write "Y" on the
   control socket, the engine does the handshake on the network socket
   and answers with a block of NAME=value strings ended by an empty
   one; from then on the session is clear text on the two pipes, which
   become our fds 0 and 1. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "fdpass.h"
#include "fdplace.h"
#include "smtpd.h"

/* the engine's answer: a few NAME=value strings */
#define BLOCK_MAX 2048
/* a tlsd started here, and the daemon's socket: tlsd(8) */
#define TLSD "bin/tlsd"
#define TLSD_SOCKET "tlsd/socket"

smtpd_tlsinfo smtpd_tls ;
static int launcher = 0 ;  /* SSLCTLFD came with the session */
static int offer = 0 ;

void smtpd_tls_reset (void)
{
  char const *x = getenv("SSLCTLFD") ;
  struct stat st ;
  memset(&smtpd_tls, 0, sizeof smtpd_tls) ;
  launcher = x && *x ;
  /* an engine gets the connection as one socket: inject -bs's pipes
     have no STARTTLS */
  offer = launcher || (!access(SMTPD_TLS_CERT, F_OK) && !fstat(0, &st) && S_ISSOCK(st.st_mode)) ;
  /* engines of sessions before this one have ended by now, or soon */
  while (waitpid(-1, 0, WNOHANG) > 0) ;
}

int smtpd_tls_offered (void)
{
  return offer && !smtpd_tls.on ;
}

static int envfd (char const *name)
{
  char const *x = getenv(name) ;
  unsigned int fd ;
  if (!x || !uint0_scan(x, &fd) || fd < 3) return -1 ;
  return (int)fd ;
}

/* the engine's ends to the daemon, with the client's connection; 0 if
   there is none (not running, or at its limit: the backlog is full) */
static int hand (int const *theirs)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = TLSD_SOCKET } ;
  int fds[4] = { 0, theirs[0], theirs[1], theirs[2] } ;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) ;
  int ok ;
  if (s < 0) return 0 ;
  ok = connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 && fdpass_send(s, fds, 4) ;
  fd_close(s) ;
  return ok ;
}

/* bin/tlsd -e with fds 0/1 the network, 3 the control socket, 4 and 5
   the pipes */
static int spawn (int const *theirs)
{
  pid_t pid = fork() ;
  if (pid < 0) return 0 ;
  if (!pid)
  {
    static int const to[3] = { 3, 4, 5 } ;
    char const *argv[] = { TLSD, "-e", 0 } ;
    if (!fdplace(theirs, to, 3)) _exit(111) ;
    execv(argv[0], (char *const *)argv) ;
    _exit(111) ;
  }
  return 1 ;
}

/* the three ends, theirs to an engine; ours into *ctl, *rfd, *wfd */
static int launch (int *ctl, int *rfd, int *wfd)
{
  int sv[2], up[2], down[2] ;  /* up: us to the engine; down: back */
  int theirs[3], ok ;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return 0 ;
  if (pipe2(up, O_CLOEXEC) < 0) { fd_close(sv[0]) ; fd_close(sv[1]) ; return 0 ; }
  if (pipe2(down, O_CLOEXEC) < 0)
  {
    fd_close(sv[0]) ; fd_close(sv[1]) ; fd_close(up[0]) ; fd_close(up[1]) ;
    return 0 ;
  }
  theirs[0] = sv[1] ; theirs[1] = up[0] ; theirs[2] = down[1] ;
  ok = hand(theirs) || spawn(theirs) ;
  fd_close(sv[1]) ; fd_close(up[0]) ; fd_close(down[1]) ;
  if (!ok)
  {
    fd_close(sv[0]) ; fd_close(up[1]) ; fd_close(down[0]) ;
    return 0 ;
  }
  *ctl = sv[0] ; *rfd = down[0] ; *wfd = up[1] ;
  return 1 ;
}

/* the engine's block into b, by the deadline; its length, the final
   empty string's NUL included, or 0 */
static size_t block (int ctl, char *b)
{
  size_t n = 0 ;
  tain d ;
  tain_now_g() ;
  tain_addsec_g(&d, (int)smtpd_config.timeout) ;
  if (ndelay_on(ctl) < 0) return 0 ;
  for (;;)
  {
    iopause_fd x = { .fd = ctl, .events = IOPAUSE_READ } ;
    ssize_t r ;
    if (n && !b[n - 1] && (n == 1 || !b[n - 2])) return n ;
    if (n == BLOCK_MAX) return 0 ;
    r = read(ctl, b + n, BLOCK_MAX - n) ;
    if (r > 0) { n += (size_t)r ; continue ; }
    if (!r) return 0 ;
    if (errno == EINTR) continue ;
    if (errno != EAGAIN) return 0 ;
    r = iopause_g(&x, 1, &d) ;
    if (r < 0 && errno != EINTR) return 0 ;
    if (!r) return 0 ;
  }
}

/* the values we keep from the block, cleaned for the Received line */
static void fields (char const *b, size_t n)
{
  for (size_t i = 0 ; i < n && b[i] ; i += strlen(b + i) + 1)
  {
    char const *s = b + i ;
    size_t len = strlen(s) ;
    if (!strncmp(s, "SSL_PROTOCOL=", 13))
      smtpd_tls.protocol[smtpd_clean(smtpd_tls.protocol, sizeof smtpd_tls.protocol - 1, s + 13, len - 13)] = 0 ;
    else if (!strncmp(s, "SSL_CIPHER=", 11))
      smtpd_tls.cipher[smtpd_clean(smtpd_tls.cipher, sizeof smtpd_tls.cipher - 1, s + 11, len - 11)] = 0 ;
    else if (!strcmp(s, "SSL_SESSION_REUSED=1")) smtpd_tls.reused = 1 ;
  }
  if (!smtpd_tls.protocol[0]) strcpy(smtpd_tls.protocol, "TLS") ;
}

static void failed (char const *why)
{
  smtpd_log_start("end") ;
  smtpd_log_put(": tls failed: ") ;
  smtpd_log_put(why) ;
  if (errno) { smtpd_log_put(": ") ; smtpd_log_put(strerror(errno)) ; }
  smtpd_log_end() ;
}

int smtpd_tls_start (void)
{
  char b[BLOCK_MAX] ;
  size_t n ;
  int ctl, rfd, wfd ;
  if (launcher)
  {
    ctl = envfd("SSLCTLFD") ; rfd = envfd("SSLREADFD") ; wfd = envfd("SSLWRITEFD") ;
    if (ctl < 0 || rfd < 0 || wfd < 0) return (errno = 0, failed("bad SSLCTLFD, SSLREADFD or SSLWRITEFD"), 0) ;
  }
  else if (!launch(&ctl, &rfd, &wfd)) return (failed("cannot start " TLSD), 0) ;
  if (fd_write(ctl, "Y", 1) != 1) { failed("cannot talk to the engine") ; goto err ; }
  n = block(ctl, b) ;
  /* the engine logs why; the client is mid-handshake and cannot be told */
  if (!n) { errno = 0 ; failed("no handshake") ; goto err ; }
  fields(b, n) ;
  fd_close(ctl) ;
  if (dup2(rfd, 0) < 0 || dup2(wfd, 1) < 0) { failed("dup2") ; return 0 ; }
  fd_close(rfd) ; fd_close(wfd) ;
  if (ndelay_on(0) < 0 || ndelay_on(1) < 0) { failed("set descriptors non-blocking") ; return 0 ; }
  smtpd_tls.on = 1 ;
  smtpd_log_start("tls") ;
  smtpd_log_put(" ") ;
  smtpd_log_put(smtpd_tls.protocol) ;
  smtpd_log_put(" ") ;
  smtpd_log_put(smtpd_tls.cipher) ;
  if (smtpd_tls.reused) smtpd_log_put(" resumed") ;
  smtpd_log_end() ;
  return 1 ;
 err:
  fd_close(ctl) ; fd_close(rfd) ; fd_close(wfd) ;
  return 0 ;
}
