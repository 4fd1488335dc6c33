/* rspawn: runs remote for each of send's remote jobs, as the remote
   account (never root). Reads job records on fd 0, writes result
   records on fd 1, logs on fd 2. Protocol in rspawn(8). */

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
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

/* every complete job available now; 0 at end of input */
static int input (stralloc *rec)
{
  for (;;)
  {
    int r = frame_get(buffer_0, rec, RSPAWN_JOB_MAX) ;
    if (!r) return 1 ;
    if (r < 0)
    {
      if (errno == EMSGSIZE) strerr_dief1x(111, "job record too long") ;
      if (errno != EPIPE) strerr_diefu1sys(111, "read jobs") ;
      if (rec->len) strerr_warnw1x("incomplete job record at end of input, ignored") ;
      return 0 ;
    }
    rspawn_job_start(rec->s, rec->len) ;
    rec->len = 0 ;
  }
}

static void raise_fd_limit (void)
{
  struct rlimit rl ;
  rlim_t want = 2 * RSPAWN_SLOTS + 64 ;  /* a pipe and a body per job */
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) strerr_diefu1sys(111, "getrlimit") ;
  if (rl.rlim_cur >= want) return ;
  rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want ;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) strerr_warnwu1sys("raise the descriptor limit") ;
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
  raise_fd_limit() ;
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
    if (!eof && x[1].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) eof = !input(&rec) ;
  }
  return 0 ;
}
