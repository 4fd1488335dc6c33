#include <errno.h>
#include <signal.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "fdlimit.h"
#include "spawner.h"

static void reap (spawner const *s)
{
  for (;;)
  {
    int wstat ;
    pid_t pid = wait_nohang(&wstat) ;
    if (pid <= 0) return ;
    (*s->reaped)(pid, wstat) ;
  }
}

static void signals (spawner const *s)
{
  for (;;)
  {
    int sig = selfpipe_read() ;
    if (sig < 0) strerr_diefu1sys(111, "read selfpipe") ;
    if (!sig) return ;
    if (sig == SIGCHLD) reap(s) ;
  }
}

/* The children's fds first, then SIGCHLD, then new jobs: a child's
   output is read before its exit is handled. */
void spawner_run (spawner const *s)
{
  stralloc rec = STRALLOC_ZERO ;
  iopause_fd *x = s->x ;
  int eof = 0 ;
  int sigfd ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  sigfd = selfpipe_init() ;
  if (sigfd < 0 || !selfpipe_trap(SIGCHLD)) strerr_diefu1sys(111, "set up the selfpipe") ;
  if (ndelay_on(0) < 0) strerr_diefu1sys(111, "make fd 0 non-blocking") ;
  fdlimit_raise(s->fdmax) ;
  tain_now_set_stopwatch_g() ;
  tain_now_g() ;
  while (!eof || (*s->active)())
  {
    tain deadline ;
    int timed = s->deadline && (*s->deadline)(&deadline) ;
    unsigned int n = 1 ;
    x[0].fd = sigfd ;
    x[0].events = IOPAUSE_READ ;
    if (!eof)
    {
      x[n].fd = 0 ;
      x[n++].events = IOPAUSE_READ ;
    }
    n += (*s->fds)(x + n, s->tok + n, s->xmax - n) ;
    if (iopause_g(x, n, timed ? &deadline : 0) < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(111, "iopause") ;
    }
    for (unsigned int i = eof ? 1 : 2 ; i < n ; i++)
      if (x[i].revents & (IOPAUSE_READ | IOPAUSE_WRITE | IOPAUSE_EXCEPT)) (*s->ready)(s->tok[i], x[i].revents) ;
    if (x[0].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) signals(s) ;
    if (!eof && x[1].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))
    {
      eof = !frame_each(buffer_0, &rec, s->jobmax, s->job) ;
      if (eof && s->eof) (*s->eof)() ;
    }
    if (s->tick) (*s->tick)() ;
  }
}
