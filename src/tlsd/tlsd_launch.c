#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "fdplace.h"
#include "tlsd.h"

static void setfd (char const *name, int fd)
{
  char fmt[UINT_FMT] ;
  fmt[uint_fmt(fmt, fd)] = 0 ;
  if (uncoe(fd) < 0) strerr_diefu1sys(111, "clear close-on-exec") ;
  if (setenv(name, fmt, 1) < 0) strerr_diefu2sys(111, "set ", name) ;
}

void tlsd_launch (struct tlsd_opts const *o, char const *const *argv)
{
  int ctl[2], up[2], down[2] ;   /* up: application to engine; down: engine to application */
  pid_t pid ;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) strerr_diefu1sys(111, "create a socket pair") ;
  if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) strerr_diefu1sys(111, "create a pipe") ;
  pid = fork() ;
  if (pid < 0) strerr_diefu1sys(111, "fork") ;
  if (!pid)
  {
    int const mine[3] = { ctl[1], up[0], down[1] } ;
    static int const to[3] = { TLSD_CTL, TLSD_FROM_APP, TLSD_TO_APP } ;
    fd_close(ctl[0]) ; fd_close(up[1]) ; fd_close(down[0]) ;
    tlsd_become_engine(&o->engine) ;
    if (!fdplace(mine, to, 3)) strerr_diefu1sys(111, "move the engine's descriptors") ;
    return ;
  }
  fd_close(ctl[1]) ; fd_close(up[0]) ; fd_close(down[1]) ;
  tlsd_become_app(&o->app) ;
  setfd("SSLCTLFD", ctl[0]) ;
  setfd("SSLREADFD", down[0]) ;
  setfd("SSLWRITEFD", up[1]) ;
  xexec(argv) ;
}
