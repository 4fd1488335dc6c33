/* rspawn: runs remote for each of send's remote jobs, as the remote
   account (never root). Reads job records on fd 0, writes result
   records on fd 1, logs on fd 2. Protocol in rspawn(8). */

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "fdlimit.h"
#include "frame.h"
#include "home.h"
#include "rspawn.h"

rspawn_job rspawn_jobs[RSPAWN_SLOTS] ;
unsigned int rspawn_active = 0 ;

static iopause_fd x[2 + RSPAWN_SLOTS] ;
static unsigned int xj[2 + RSPAWN_SLOTS] ;
static int sigfd ;

static void reap (void)
{
  for (;;)
  {
    int wstat ;
    pid_t pid = wait_nohang(&wstat) ;
    if (pid <= 0) return ;
    for (unsigned int j = 0 ; j < RSPAWN_SLOTS ; j++)
      if (rspawn_jobs[j].n && rspawn_jobs[j].pid == pid) { rspawn_reaped(j, wstat) ; break ; }
  }
}

static void signals (void)
{
  for (;;)
  {
    int s = selfpipe_read() ;
    if (s < 0) strerr_diefu1sys(111, "read selfpipe") ;
    if (!s) return ;
    if (s == SIGCHLD) reap() ;
  }
}



int main (void)
{
  stralloc rec = STRALLOC_ZERO ;
  stralloc home = STRALLOC_ZERO ;
  int eof = 0 ;
  PROG = "rspawn" ;
  if (!getuid() || !geteuid()) strerr_dief1x(100, "refusing to run as root: send starts rspawn as the remote account") ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (sagetcwd(&home) < 0 || !stralloc_0(&home)) strerr_diefu1sys(111, "get the home's path") ;
  rspawn_spawn_init(home.s) ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  sigfd = selfpipe_init() ;
  if (sigfd < 0 || !selfpipe_trap(SIGCHLD)) strerr_diefu1sys(111, "set up the selfpipe") ;
  if (ndelay_on(0) < 0) strerr_diefu1sys(111, "make fd 0 non-blocking") ;
  fdlimit_raise(2 * RSPAWN_SLOTS + 64) ;
  while (!eof || rspawn_active)
  {
    unsigned int n = 1 ;
    x[0].fd = sigfd ;
    x[0].events = IOPAUSE_READ ;
    if (!eof)
    {
      x[n].fd = 0 ;
      x[n++].events = IOPAUSE_READ ;
    }
    for (unsigned int j = 0 ; j < RSPAWN_SLOTS ; j++)
      if (rspawn_jobs[j].n && rspawn_jobs[j].fd >= 0)
      {
        xj[n] = j ;
        x[n].fd = rspawn_jobs[j].fd ;
        x[n++].events = IOPAUSE_READ ;
      }
    if (iopause(x, n, 0, 0) < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(111, "iopause") ;
    }
    for (unsigned int i = eof ? 1 : 2 ; i < n ; i++)
      if (x[i].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) rspawn_read(xj[i]) ;
    if (x[0].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) signals() ;
    if (!eof && x[1].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) eof = !frame_each(buffer_0, &rec, RSPAWN_JOB_MAX, &rspawn_job_start) ;
  }
  return 0 ;
}
