/* rspawn: runs remote for each of send's remote jobs, as the remote
   account (never root). Reads job records on fd 0, writes result
   records on fd 1, logs on fd 2. Protocol in rspawn(8). */

#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "home.h"
#include "queue.h"
#include "rspawn.h"
#include "spawner.h"

rspawn_job rspawn_jobs[RSPAWN_SLOTS] ;
unsigned int rspawn_active = 0 ;

static iopause_fd x[2 + RSPAWN_SLOTS] ;
static unsigned int xj[2 + RSPAWN_SLOTS] ;

static unsigned int active (void)
{
  return rspawn_active ;
}

static unsigned int fds (iopause_fd *y, unsigned int *tok, unsigned int max)
{
  unsigned int n = 0 ;
  for (unsigned int j = 0 ; j < RSPAWN_SLOTS && n < max ; j++)
    if (rspawn_jobs[j].n && rspawn_jobs[j].fd >= 0)
    {
      tok[n] = j ;
      y[n].fd = rspawn_jobs[j].fd ;
      y[n++].events = IOPAUSE_READ ;
    }
  return n ;
}

static void ready (unsigned int j, int revents)
{
  (void)revents ;
  rspawn_read(j) ;
}

static void reaped (pid_t pid, int wstat)
{
  for (unsigned int j = 0 ; j < RSPAWN_SLOTS ; j++)
    if (rspawn_jobs[j].n && rspawn_jobs[j].pid == pid) { rspawn_reaped(j, wstat) ; return ; }
}

int main (void)
{
  static spawner const loop =
  {
    .jobmax = RSPAWN_JOB_MAX, .fdmax = 2 * RSPAWN_SLOTS + 64,
    .x = x, .tok = xj, .xmax = 2 + RSPAWN_SLOTS,
    .job = &rspawn_job_start, .active = &active, .fds = &fds, .ready = &ready, .reaped = &reaped,
  } ;
  stralloc home = STRALLOC_ZERO ;
  PROG = "rspawn" ;
  if (!getuid() || !geteuid()) strerr_dief1x(100, "refusing to run as root: send starts rspawn as the remote account") ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  if (sagetcwd(&home) < 0 || !stralloc_0(&home)) strerr_diefu1sys(111, "get the home's path") ;
  rspawn_spawn_init(home.s) ;
  spawner_run(&loop) ;
  return 0 ;
}
