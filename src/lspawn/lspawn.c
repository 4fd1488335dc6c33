/* lspawn: runs local as each recipient of send's local jobs. Runs as
   root (or as its caller, then without changing ids). Reads job records
   on fd 0, writes result records on fd 1, logs on fd 2. Children get
   the body on fd 0, one pipe on fds 1 and 2. Protocol in lspawn(8). */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "accounts.h"
#include "fdlimit.h"
#include "frame.h"
#include "home.h"
#include "lspawn.h"

lspawn_rcpt lspawn_rcpts[LSPAWN_SLOTS] ;
lspawn_job lspawn_jobs[LSPAWN_SLOTS] ;
unsigned int lspawn_jobs_active = 0 ;
int lspawn_root = 0 ;
char const *lspawn_alias_user ;
char const *lspawn_alias_home ;

/* fd 0, the selfpipe, and a pipe per recipient slot */
static iopause_fd x[2 + LSPAWN_SLOTS] ;
static unsigned int xr[2 + LSPAWN_SLOTS] ;
static int sigfd ;

static void reap (void)
{
  for (;;)
  {
    int wstat ;
    pid_t pid = wait_nohang(&wstat) ;
    if (pid <= 0) return ;
    for (unsigned int r = 0 ; r < LSPAWN_SLOTS ; r++)
      if (lspawn_rcpts[r].pid == pid) { lspawn_reaped(r, wstat) ; break ; }
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



static void init (void)
{
  static stralloc home = STRALLOC_ZERO ;
  lspawn_alias_user = auto_user_alias ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  /* the children chdir away: give them the home as an absolute path */
  if (sagetcwd(&home) < 0 || !stralloc_0(&home)) strerr_diefu1sys(111, "get the home's path") ;
  lspawn_spawn_init(home.s) ;
  home.len-- ;
  if (!stralloc_cats(&home, "/alias") || !stralloc_0(&home)) strerr_diefu1sys(111, "allocate") ;
  lspawn_alias_home = home.s ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  sigfd = selfpipe_init() ;
  if (sigfd < 0 || !selfpipe_trap(SIGCHLD)) strerr_diefu1sys(111, "set up the selfpipe") ;
  for (unsigned int r = 0 ; r < LSPAWN_SLOTS ; r++) lspawn_rcpts[r].fd = -1 ;
  if (ndelay_on(0) < 0) strerr_diefu1sys(111, "make fd 0 non-blocking") ;
  fdlimit_raise(LSPAWN_SLOTS + 64) ;  /* a pipe per slot */
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
  stralloc rec = STRALLOC_ZERO ;
  int eof = 0 ;
  PROG = "lspawn" ;
  init() ;
  while (!eof || lspawn_jobs_active)
  {
    unsigned int n = 1 ;
    x[0].fd = sigfd ;
    x[0].events = IOPAUSE_READ ;
    if (!eof)
    {
      x[n].fd = 0 ;
      x[n++].events = IOPAUSE_READ ;
    }
    for (unsigned int r = 0 ; r < LSPAWN_SLOTS ; r++)
      if (lspawn_rcpts[r].fd >= 0 && lspawn_rcpts[r].pid)
      {
        xr[n] = r ;
        x[n].fd = lspawn_rcpts[r].fd ;
        x[n++].events = IOPAUSE_READ ;
      }
    if (iopause(x, n, 0, 0) < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(111, "iopause") ;
    }
    for (unsigned int i = eof ? 1 : 2 ; i < n ; i++)
      if (x[i].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) lspawn_read(xr[i]) ;
    if (x[0].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) signals() ;
    if (!eof && x[1].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) eof = !frame_each(buffer_0, &rec, LSPAWN_JOB_MAX, &lspawn_job_start) ;
  }
  return 0 ;
}
