#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "wpool.h"

/* vfork, not fork: fork copies the owner's page tables for every
   worker (lspawn's measured 16 % of all CPU per message when it forked
   per delivery). The child shares the owner's memory until it execs,
   so it only makes system calls, and reports a failed exec with one
   raw write, not through strerr's buffer, which is the owner's. */
static void child (int sock, wpool_prog const *prog) __attribute__((noreturn)) ;
static void child (int sock, wpool_prog const *prog)
{
  sigset_t none ;
  int err ;
  char const *e ;
  struct iovec v[6] ;
  sigemptyset(&none) ;
  /* a worker starts as a fresh program would: the owner's blocked
     signals (a selfpipe's) and ignored SIGPIPE are not its own */
  if (sigprocmask(SIG_SETMASK, &none, 0) < 0 || signal(SIGPIPE, SIG_DFL) == SIG_ERR) _exit(111) ;
  /* dup2 clears close-on-exec on 0 and 1; sock itself goes at exec */
  if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0) _exit(111) ;
  if (prog->child && !(*prog->child)(prog->data)) _exit(111) ;
  execve(prog->path, (char *const *)prog->argv, (char *const *)prog->envp) ;
  err = errno ;
  e = strerror(err) ;
  v[0].iov_base = (char *)PROG ; v[0].iov_len = strlen(PROG) ;
  v[1].iov_base = ": warning: unable to exec " ; v[1].iov_len = 26 ;
  v[2].iov_base = (char *)prog->path ; v[2].iov_len = strlen(prog->path) ;
  v[3].iov_base = ": " ; v[3].iov_len = 2 ;
  v[4].iov_base = (char *)e ; v[4].iov_len = strlen(e) ;
  v[5].iov_base = "\n" ; v[5].iov_len = 1 ;
  (void)writev(2, v, 6) ;
  _exit(err == ENOENT ? 127 : 126) ;
}

/* its own frame: nothing of wpool_spawn's lives across the vfork */
static pid_t start (int sock, wpool_prog const *prog) __attribute__((noinline)) ;
static pid_t start (int sock, wpool_prog const *prog)
{
  pid_t pid = vfork() ;
  if (!pid) child(sock, prog) ;
  return pid ;
}

/* Our end is non-blocking: the owner reads a worker's answers when
   iopause says so, and sends a job only to a worker with room. */
int wpool_spawn (wpool *p, uint64_t key, wpool_prog const *prog)
{
  int sv[2] ;
  unsigned int i = 0 ;
  pid_t pid ;
  while (i < p->max && p->w[i].pid) i++ ;
  if (i == p->max) return (errno = EBUSY, -1) ;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1 ;
  pid = start(sv[1], prog) ;
  if (pid < 0) { int e = errno ; fd_close(sv[0]) ; fd_close(sv[1]) ; return (errno = e, -1) ; }
  fd_close(sv[1]) ;
  p->w[i].pid = pid ;
  p->w[i].fd = sv[0] ;
  p->w[i].busy = 0 ;
  p->w[i].served = 0 ;
  p->w[i].key = key ;
  tain_now_g() ;
  p->w[i].idle = STAMP ;
  if (ndelay_on(sv[0]) < 0)
  {
    /* the worker reads EOF and exits; the owner reaps it as any other */
    int e = errno ;
    wpool_retire(p, i) ;
    return (errno = e, -1) ;
  }
  return (int)i ;
}
