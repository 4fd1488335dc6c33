/* lspawn: runs local as each recipient of send's local jobs. Runs as
   root (or as its caller, then without changing ids). Reads job records
   on fd 0, writes result records on fd 1, logs on fd 2. A delivery
   goes to its account's worker (local -w, lspawn_worker.c) over a
   socket, or to a one-shot local with the body on fd 0 and one pipe on
   fds 1 and 2. Protocol in lspawn(8). */

#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "accounts.h"
#include "control.h"
#include "home.h"
#include "queue.h"
#include "lspawn.h"
#include "spawner.h"

lspawn_rcpt lspawn_rcpts[LSPAWN_SLOTS] ;
lspawn_job lspawn_jobs[LSPAWN_SLOTS] ;
unsigned int lspawn_jobs_active = 0 ;
int lspawn_root = 0 ;
char const *lspawn_alias_user ;
char const *lspawn_alias_home ;

unsigned int lspawn_workers_max = LSPAWN_WORKERS ;
unsigned int lspawn_worker_uses = LSPAWN_WORKER_USES ;
unsigned int lspawn_worker_idle = LSPAWN_WORKER_IDLE ;

/* fd 0, the selfpipe, a pipe per recipient slot, a socket per worker;
   a token below LSPAWN_SLOTS is a recipient, above it a worker */
#define XMAX (2 + LSPAWN_SLOTS + LSPAWN_WORKERS_MAX)
static iopause_fd x[XMAX] ;
static unsigned int xr[XMAX] ;

static unsigned int active (void)
{
  return lspawn_jobs_active ;
}

static unsigned int fds (iopause_fd *y, unsigned int *tok, unsigned int max)
{
  unsigned int n = 0 ;
  for (unsigned int r = 0 ; r < LSPAWN_SLOTS && n < max ; r++)
    if (lspawn_rcpts[r].fd >= 0 && lspawn_rcpts[r].pid)
    {
      tok[n] = r ;
      y[n].fd = lspawn_rcpts[r].fd ;
      y[n++].events = IOPAUSE_READ ;
    }
  return n + lspawn_worker_fds(y + n, tok + n, max - n, LSPAWN_SLOTS) ;
}

static void ready (unsigned int tok, int revents)
{
  (void)revents ;
  if (tok < LSPAWN_SLOTS) lspawn_read(tok) ;
  else lspawn_worker_read(tok - LSPAWN_SLOTS) ;
}

static void reaped (pid_t pid, int wstat)
{
  for (unsigned int r = 0 ; r < LSPAWN_SLOTS ; r++)
    if (lspawn_rcpts[r].pid == pid) { lspawn_reaped(r, wstat) ; return ; }
  lspawn_worker_reaped(pid, wstat) ;
}


static void init (void)
{
  static stralloc home = STRALLOC_ZERO ;
  lspawn_alias_user = auto_user_alias ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  /* the children chdir away: give them the home as an absolute path */
  if (sagetcwd(&home) < 0 || !stralloc_0(&home)) strerr_diefu1sys(111, "get the home's path") ;
  lspawn_spawn_init(home.s) ;
  home.len-- ;
  if (!stralloc_cats(&home, "/alias") || !stralloc_0(&home)) strerr_diefu1sys(111, "allocate") ;
  lspawn_alias_home = home.s ;
  for (unsigned int r = 0 ; r < LSPAWN_SLOTS ; r++) { lspawn_rcpts[r].fd = -1 ; lspawn_rcpts[r].worker = -1 ; }
  lspawn_workers_max = control_readuint_max("localworkers", LSPAWN_WORKERS, LSPAWN_WORKERS_MAX) ;
  lspawn_worker_uses = control_readuint_max("localworkeruses", LSPAWN_WORKER_USES, LDELIVER_USES_MAX) ;
  lspawn_worker_idle = control_readuint_max("localworkeridle", LSPAWN_WORKER_IDLE, LSPAWN_WORKER_IDLE_MAX) ;
  if (!lspawn_worker_uses) lspawn_workers_max = 0 ;
  lspawn_worker_init() ;
  lspawn_root = !getuid() ;
  if (!lspawn_root)
  {
    char fmt[UID_FMT] ;
    fmt[uid_fmt(fmt, getuid())] = 0 ;
    strerr_warnw3x("not running as root: every delivery runs as uid ", fmt, ", ids unchanged") ;
  }
}

int main (void)
{
  static spawner const loop =
  {
    .jobmax = LSPAWN_JOB_MAX, .fdmax = LSPAWN_SLOTS + LSPAWN_WORKERS_MAX + 64,
    .x = x, .tok = xr, .xmax = XMAX,
    .job = &lspawn_job_start, .active = &active, .fds = &fds, .ready = &ready, .reaped = &reaped,
    .deadline = &lspawn_worker_deadline, .tick = &lspawn_worker_tick,
  } ;
  PROG = "lspawn" ;
  init() ;
  spawner_run(&loop) ;
  return 0 ;
}
