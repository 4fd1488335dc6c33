/* send-start: the send service's first process, as root (or anyone in
   tests). Starts record, clean, lspawn and rspawn each under its own
   account over two pipes, then send under the send account with a socket
   to us on its fd 0, over which send gets its children's pipe ends. Then
   stays their parent: restarts a dead lspawn or rspawn and hands send
   the new ends, passes s6's signals on to send. See send-start(8). */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "accounts.h"
#include "home.h"
#include "sigtrap.h"
#include "send-start.h"

/* once send has exited, how long its children get to finish what send
   handed them (record: every result it holds; lspawn: running
   deliveries, each bounded by local's own limits) before they get
   SIGTERM (seconds) */
#define DRAIN_MAX 300

static struct send_start_kid kids[K_N] =
{
  [K_RECORD] = { .name = "record" },
  [K_CLEAN] = { .name = "clean" },
  [K_LSPAWN] = { .name = "lspawn" },
  [K_RSPAWN] = { .name = "rspawn" },
} ;

static pid_t sendpid = 0 ;
static int sendexit = 111 ;
static int stopping = 0 ;
static tain drain ;             /* when stopping since send exited */

static void pass_signal (int sig)
{
  if (sendpid && kill(sendpid, sig) < 0 && errno != ESRCH) strerr_warnwu1sys("signal send") ;
}

static void reap (void)
{
  for (;;)
  {
    int wstat ;
    pid_t pid = wait_nohang(&wstat) ;
    if (pid <= 0) return ;
    if (pid == sendpid)
    {
      sendpid = 0 ;
      sendexit = WIFEXITED(wstat) && !WEXITSTATUS(wstat) ? 0 : 111 ;
      if (!stopping) send_start_died("send", wstat, "waiting for its children to finish") ;
      stopping = 1 ;
      tain_addsec_g(&drain, DRAIN_MAX) ;
      continue ;
    }
    for (unsigned int k = 0 ; k < K_N ; k++)
    {
      struct send_start_kid *c = kids + k ;
      if (pid != c->pid) continue ;
      c->pid = 0 ;
      if (stopping) break ;
      if (k == K_LSPAWN || k == K_RSPAWN)
      {
        send_start_died(c->name, wstat, "restarting it") ;
        c->due = 1 ;
      }
      else send_start_died(c->name, wstat, "send exits, the service restarts the set") ;
      break ;
    }
  }
}

static void handle_signals (void)
{
  for (;;)
  {
    int sig = selfpipe_read() ;
    if (sig < 0) strerr_diefu1sys(111, "read the selfpipe") ;
    if (!sig) return ;
    switch (sig)
    {
      case SIGCHLD : reap() ; break ;
      case SIGTERM : case SIGINT : stopping = 1 ; pass_signal(sig) ; break ;
      default : pass_signal(sig) ; break ;
    }
  }
}

static int running (void)
{
  int n = !!sendpid ;
  for (unsigned int k = 0 ; k < K_N ; k++) n += !!kids[k].pid ;
  return n ;
}

/* s6's readiness descriptor is send's alone: none of the others keeps it */
static int notify_fd (void)
{
  char const *s = getenv("POSTERN_NOTIFY_FD") ;
  unsigned int fd ;
  if (!s || !uint0_scan(s, &fd) || fd < 3 || coe(fd) < 0) return -1 ;
  return fd ;
}

int main (void)
{
  int sv[2], spfd, notify ;
  PROG = "send-start" ;
  notify = notify_fd() ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (!getuid())
  {
    send_start_lookup(&kids[K_RECORD].a, auto_user_send) ;
    send_start_lookup(&kids[K_CLEAN].a, auto_user_queue) ;
    send_start_lookup(&kids[K_RSPAWN].a, auto_user_remote) ;
  }
  else
  {
    char fmt[UID_FMT] ;
    fmt[uid_fmt(fmt, getuid())] = 0 ;
    strerr_warnw3x("not started as root: every process runs as uid ", fmt, ", deliveries included") ;
  }
  spfd = sigtrap_daemon() ;
  if (spfd < 0) strerr_diefu1sys(111, "set up signals") ;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    strerr_diefu1sys(111, "create a socket pair") ;
  {
    struct send_start_acct sendacct = kids[K_RECORD].a ;
    sendpid = send_start_send(sv[1], notify, &sendacct) ;
  }
  fd_close(sv[1]) ;
  if (notify >= 0) fd_close(notify) ;
  for (unsigned int k = 0 ; k < K_N ; k++)
    if (!send_start_kid(kids + k, sv[0])) strerr_diefu2sys(111, "start ", kids[k].name) ;

  while (running())
  {
    iopause_fd x = { .fd = spfd, .events = IOPAUSE_READ } ;
    tain deadline ;
    int due = 0 ;
    tain_now_g() ;
    for (unsigned int k = 0 ; k < K_N ; k++)
    {
      struct send_start_kid *c = kids + k ;
      if (!c->due || stopping) continue ;
      if (tain_less(&STAMP, &c->next)) { due = 1 ; continue ; }
      c->due = 0 ;
      if (!send_start_kid(c, sv[0])) { strerr_warnwu2sys("restart ", c->name) ; c->due = due = 1 ; }
    }
    if (stopping && !sendpid && !tain_less(&STAMP, &drain))
    {
      strerr_warnw1x("children still running long after send exited: sending them SIGTERM") ;
      for (unsigned int k = 0 ; k < K_N ; k++)
        if (kids[k].pid) kill(kids[k].pid, SIGTERM) ;
      break ;
    }
    if (stopping && !sendpid) deadline = drain ;
    else tain_addsec_g(&deadline, due ? RESTART_DELAY : 3600) ;
    if (iopause_g(&x, 1, &deadline) < 0) strerr_diefu1sys(111, "iopause") ;
    if (x.revents & IOPAUSE_READ) handle_signals() ;
  }
  return sendexit ;
}
