#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "home.h"
#include "wpool.h"
#include "send-start.h"

static void prog_path (char *buf, size_t max, char const *name)
{
  char const *home = home_dir() ;
  size_t n = strlen(home), m = strlen(name) ;
  if (n + m + 6 > max) strerr_dief1x(111, "home path too long") ;
  memcpy(buf, home, n) ;
  memcpy(buf + n, "/bin/", 5) ;
  memcpy(buf + n + 5, name, m + 1) ;
}

/* in a child: what our selfpipe blocked and ignored is the program's
   own business again */
static void child_signals (void)
{
  sigset_t set ;
  sigemptyset(&set) ;
  if (!sig_restore(SIGPIPE) || sigprocmask(SIG_SETMASK, &set, 0) < 0) strerr_diefu1sys(111, "reset signals") ;
}

/* Starts k with a new pipe on its fd 0 and one on its fd 1, and hands
   send our ends over sock: "<name> 0" carries the end that writes to
   its fd 0, "<name> 1" the end that reads its fd 1 (send(8)). 1 if
   started, 0 with errno if not. */
int send_start_kid (struct send_start_kid *k, int sock)
{
  int in[2], out[2] ;
  char prog[4096] ;
  char msg[64] ;
  size_t n = strlen(k->name) ;
  prog_path(prog, sizeof prog, k->name) ;
  tain_addsec_g(&k->next, RESTART_DELAY) ;
  if (n + 2 >= sizeof msg) return (errno = ENAMETOOLONG, 0) ;
  if (pipecoe(in) < 0) return 0 ;
  if (pipecoe(out) < 0) { fd_close(in[0]) ; fd_close(in[1]) ; return 0 ; }
  k->pid = fork() ;
  if (k->pid < 0)
  {
    k->pid = 0 ;
    fd_close(in[0]) ; fd_close(in[1]) ; fd_close(out[0]) ; fd_close(out[1]) ;
    return 0 ;
  }
  if (!k->pid)
  {
    char const *argv[2] = { prog, 0 } ;
    PROG = k->name ;
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) strerr_diefu1sys(111, "move descriptors") ;
    child_signals() ;
    send_start_become(&k->a) ;
    execv(prog, (char *const *)argv) ;
    strerr_dieexec(111, prog) ;
  }
  fd_close(in[0]) ;
  fd_close(out[1]) ;
  memcpy(msg, k->name, n) ;
  msg[n] = ' ' ;
  msg[n + 1] = '0' ;
  if (!wpool_sendfd(sock, in[1], msg, n + 2)) strerr_warnwu2sys("hand send the pipe to ", k->name) ;
  msg[n + 1] = '1' ;
  if (!wpool_sendfd(sock, out[0], msg, n + 2)) strerr_warnwu2sys("hand send the pipe from ", k->name) ;
  /* send holds them now (or is gone): the child sees EOF once send
     closes its end, never because of us */
  fd_close(in[1]) ;
  fd_close(out[0]) ;
  return 1 ;
}

/* send itself, under its account from its first instruction, with sock
   on its fd 0 and s6's readiness descriptor kept open for it */
pid_t send_start_send (int sock, int notify, struct send_start_acct const *a)
{
  char prog[4096] ;
  pid_t pid ;
  prog_path(prog, sizeof prog, "send") ;
  pid = fork() ;
  if (pid < 0) strerr_diefu1sys(111, "fork for send") ;
  if (!pid)
  {
    char const *argv[2] = { prog, 0 } ;
    PROG = "send" ;
    if (dup2(sock, 0) < 0 || (notify >= 0 && uncoe(notify) < 0)) strerr_diefu1sys(111, "move descriptors") ;
    child_signals() ;
    send_start_become(a) ;
    execv(prog, (char *const *)argv) ;
    strerr_dieexec(111, prog) ;
  }
  return pid ;
}

/* "send-start: warning: lspawn killed by signal 9: restarting it" */
void send_start_died (char const *name, int wstat, char const *what)
{
  char fmt[UINT_FMT] ;
  if (WIFSIGNALED(wstat))
  {
    fmt[uint_fmt(fmt, WTERMSIG(wstat))] = 0 ;
    strerr_warnw6x(name, " killed by signal ", fmt, ": ", what, "") ;
  }
  else
  {
    fmt[uint_fmt(fmt, WEXITSTATUS(wstat))] = 0 ;
    strerr_warnw6x(name, " exited ", fmt, ": ", what, "") ;
  }
}
