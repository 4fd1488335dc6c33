/* -w: a worker of smtpd-listen(8). fd 0 is our end of a unix socketpair
   (SOCK_SEQPACKET) to the listener; each message there is one session:
   the client's connection (SCM_RIGHTS) and its variables, NAME=value
   NUL each. The session runs on fds 0 and 1 as under tcpserver, with
   the environment rebuilt from the worker's own plus exactly those
   variables; a normal end (QUIT, EOF) is answered with one byte 'd'
   and the worker waits for the next; any other end exits, and the
   listener starts another worker. EOF from the listener: exit 0. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/alloc.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "home.h"
#include "smtpd.h"
#include "wpool.h"

extern char **environ ;

/* the message as received; the session's environment points into it */
static char vars[WPOOL_MSG_MAX + 1] ;

/* 1 if the NAME= of a (up to '=') is among the session's variables */
static int shadowed (char const *a, char const *const *v, size_t n)
{
  size_t k = strcspn(a, "=") ;
  for (size_t i = 0 ; i < n ; i++)
    if (!strncmp(v[i], a, k) && v[i][k] == '=') return 1 ;
  return 0 ;
}

/* the session's variables first, then the base's not overridden */
static void environment (char const **env, size_t r, char *const *base)
{
  size_t n = 0, start = 0 ;
  for (size_t i = 0 ; i < r ; i++)
  {
    if (vars[i]) continue ;
    if (i > start && memchr(vars + start, '=', i - start)) env[n++] = vars + start ;
    start = i + 1 ;
  }
  for (size_t m = n, i = 0 ; base[i] ; i++)
    if (!shadowed(base[i], env, m)) env[n++] = base[i] ;
  env[n] = 0 ;
  environ = (char **)env ;
}

int smtpd_worker (void)
{
  char *const *base = environ ;
  char const **env ;
  size_t nbase = 0 ;
  int ctl = fcntl(0, F_DUPFD_CLOEXEC, 3) ;
  int null = open("/dev/null", O_RDWR | O_CLOEXEC) ;
  if (ctl < 0) strerr_diefu1sys(111, "move the listener's socket") ;
  if (null < 0) strerr_diefu1sys(111, "open /dev/null") ;
  /* fds 0 and 1 are the client's during a session, /dev/null between */
  if (dup2(null, 0) < 0 || dup2(null, 1) < 0) strerr_diefu1sys(111, "dup2") ;
  while (base[nbase]) nbase++ ;
  /* at most one variable per two bytes of the message */
  env = alloc((nbase + WPOOL_MSG_MAX / 2 + 1) * sizeof *env) ;
  if (!env) strerr_diefu1sys(111, "allocate the environment") ;
  if (home_chdir() < 0) strerr_diefu1sys(111, "chdir to the home") ;
  for (;;)
  {
    int fd ;
    ssize_t r = wpool_recvfd(ctl, &fd, vars, WPOOL_MSG_MAX, 0) ;
    if (!r) return 0 ;
    if (r < 0) strerr_diefu1sys(111, "receive a session from the listener") ;
    if (fd < 0) strerr_dief1x(101, "a message from the listener without a connection") ;
    if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0) strerr_diefu1sys(111, "dup2") ;
    fd_close(fd) ;
    vars[r] = 0 ;
    environment(env, (size_t)r, base) ;
    smtpd_io_init() ;
    if (smtpd_conf_changed())
    {
      char const *what = 0 ;
      if (!smtpd_conf_read(&what))
      {
        smtpd_reply("421", "4.3.5", "service not available, try later") ;
        smtpd_flush() ;
        strerr_diefu2sys(111, "read control/", what) ;
      }
    }
    smtpd_conf_env() ;
    smtpd_session() ;
    /* the client's socket is closed here: it sees the end now */
    if (dup2(null, 0) < 0 || dup2(null, 1) < 0) strerr_diefu1sys(111, "dup2") ;
    environ = (char **)base ;
    if (fd_write(ctl, "d", 1) != 1) return 0 ;
  }
}
