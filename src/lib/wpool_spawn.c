#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "wpool.h"

/* fork, not posix_spawn: the child hook may change ids or fds; a
   worker is started once per many jobs, so the fork's cost is spread.
   Our end is non-blocking: the owner reads a worker's answers when
   iopause says so, and a job is one short message to a worker that said
   it was idle, so a send never waits for room. */
int wpool_spawn (wpool *p, unsigned long key, char const *const *argv, char const *const *envp,
  wpool_child_func *child, void *data)
{
  int sv[2] ;
  unsigned int i = 0 ;
  pid_t pid ;
  while (i < p->max && p->w[i].pid) i++ ;
  if (i == p->max) return (errno = EBUSY, -1) ;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1 ;
  pid = fork() ;
  if (pid < 0) { int e = errno ; fd_close(sv[0]) ; fd_close(sv[1]) ; return (errno = e, -1) ; }
  if (!pid)
  {
    /* dup2 clears close-on-exec on 0 and 1; sv[1] itself goes at exec */
    sigset_t none ;
    sigemptyset(&none) ;
    /* a worker starts as a fresh program would: the owner's blocked
       signals (a selfpipe's) and ignored SIGPIPE are not its own */
    if (sigprocmask(SIG_SETMASK, &none, 0) < 0 || signal(SIGPIPE, SIG_DFL) == SIG_ERR) _exit(111) ;
    if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0) _exit(111) ;
    if (child && !(*child)(data)) _exit(111) ;
    execve(argv[0], (char *const *)argv, (char *const *)envp) ;
    strerr_warnwu2sys("exec ", argv[0]) ;
    _exit(errno == ENOENT ? 127 : 126) ;
  }
  fd_close(sv[1]) ;
  if (ndelay_on(sv[0]) < 0)
  {
    /* the worker reads EOF and exits; the owner reaps it as any other */
    int e = errno ;
    fd_close(sv[0]) ;
    p->w[i].pid = pid ;
    p->w[i].fd = -1 ;
    p->w[i].busy = 0 ;
    p->w[i].served = 0 ;
    p->w[i].key = key ;
    return (errno = e, -1) ;
  }
  p->w[i].pid = pid ;
  p->w[i].fd = sv[0] ;
  p->w[i].busy = 0 ;
  p->w[i].served = 0 ;
  p->w[i].key = key ;
  tain_now_g() ;
  p->w[i].idle = STAMP ;
  return (int)i ;
}
