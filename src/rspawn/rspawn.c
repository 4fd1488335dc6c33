/* rspawn: runs send's remote jobs, as the remote account (never root).
   Reads job records on fd 0, writes result records on fd 1, logs on
   fd 2. Each job goes to a remote -w over a socket: one kept idle with
   its connection to the job's domain, or a new one. Protocol in
   rspawn(8). */

#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "home.h"
#include "queue.h"
#include "rspawn.h"
#include "spawner.h"

rspawn_job rspawn_jobs[RSPAWN_PROCS] ;
wpool rspawn_pool ;
unsigned int rspawn_active = 0 ;
unsigned int rspawn_children = 0 ;
unsigned int rspawn_reuse, rspawn_idle, rspawn_reusetime ;
int rspawn_eof = 0 ;

static wpool_worker table[RSPAWN_PROCS] ;
static iopause_fd x[2 + RSPAWN_PROCS] ;
static unsigned int xj[2 + RSPAWN_PROCS] ;

/* after end of input, every remote until it has exited (those let go
   say QUIT first): rspawn's end is theirs */
static unsigned int active (void)
{
  return rspawn_active + (rspawn_eof ? rspawn_children : 0) ;
}

static unsigned int fds (iopause_fd *y, unsigned int *tok, unsigned int max)
{
  return wpool_fds(&rspawn_pool, y, tok, 0, max) ;
}

static void ready (unsigned int i, int revents)
{
  (void)revents ;
  rspawn_read(i) ;
}

/* control/name, 1 to max; def if absent */
static unsigned int setting (char const *name, unsigned int def, unsigned int max)
{
  unsigned int u = control_readuint_max(name, def, max) ;
  return u ? u : 1 ;
}

int main (void)
{
  static spawner const loop =
  {
    .jobmax = RSPAWN_JOB_MAX, .fdmax = RSPAWN_PROCS + 64,
    .x = x, .tok = xj, .xmax = 2 + RSPAWN_PROCS,
    .job = &rspawn_job_start, .active = &active, .fds = &fds, .ready = &ready, .reaped = &rspawn_reaped,
    .deadline = &rspawn_idle_deadline, .tick = &rspawn_idle_tick, .eof = &rspawn_idle_end,
  } ;
  stralloc home = STRALLOC_ZERO ;
  PROG = "rspawn" ;
  if (!getuid() || !geteuid()) strerr_dief1x(100, "refusing to run as root: send starts rspawn as the remote account") ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  if (sagetcwd(&home) < 0 || !stralloc_0(&home)) strerr_diefu1sys(111, "get the home's path") ;
  rspawn_reuse = setting("remotereuse", RSPAWN_REUSE, RSPAWN_REUSE_MAX) ;
  rspawn_idle = setting("remoteidle", RSPAWN_IDLE, RSPAWN_IDLE_MAX) ;
  rspawn_reusetime = setting("remotereusetime", RSPAWN_REUSETIME, RSPAWN_REUSETIME_MAX) ;
  wpool_init(&rspawn_pool, table, RSPAWN_PROCS, rspawn_reuse) ;
  rspawn_spawn_init(home.s) ;
  spawner_run(&loop) ;
  return 0 ;
}
