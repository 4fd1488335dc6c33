/* wpool_test: the worker table of wpool.h with real children. Run
   without arguments, it starts three copies of itself as workers
   ("wpool_test worker"), hands one a pipe and checks the answer, the
   choice of an idle worker, expiry and reaping; prints "ok". Exits 0
   if all held, 1 with the check that failed, 111 on a system error. */

#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "wpool.h"

#define CHECK(c) do { if (!(c)) strerr_dief1x(1, "failed: " #c) ; } while (0)

/* each job: the message written back into the descriptor, then "d" */
static int worker (void)
{
  char buf[WPOOL_MSG_MAX] ;
  for (;;)
  {
    int fd ;
    ssize_t r = wpool_recvfd(0, &fd, buf, sizeof buf) ;
    if (!r) return 0 ;
    if (r < 0 || fd < 0) return 111 ;
    if (allwrite(fd, buf, (size_t)r) < (size_t)r) return 111 ;
    fd_close(fd) ;
    if (fd_write(1, "d", 1) != 1) return 111 ;
  }
}

static void reap (wpool *p, pid_t pid)
{
  int wstat ;
  CHECK(waitpid(pid, &wstat, 0) == pid) ;
  CHECK(WIFEXITED(wstat) && !WEXITSTATUS(wstat)) ;
  CHECK(wpool_find(p, pid) >= 0) ;
  wpool_free(p, (unsigned int)wpool_find(p, pid)) ;
}

int main (int argc, char const *const *argv)
{
  wpool_worker table[3] ;
  wpool p ;
  char self[4096], buf[64], c ;
  char const *wargv[3] = { self, "worker", 0 } ;
  char const *envp[1] = { 0 } ;
  int a, b, x, pp[2] ;
  unsigned int busy ;
  ssize_t n ;
  tain limit ;
  PROG = "wpool_test" ;
  if (argc == 2 && !strcmp(argv[1], "worker")) return worker() ;
  n = readlink("/proc/self/exe", self, sizeof self - 1) ;
  if (n < 0) strerr_diefu1sys(111, "readlink /proc/self/exe") ;
  self[n] = 0 ;
  wpool_init(&p, table, 3) ;
  a = wpool_spawn(&p, 7, wargv, envp, 0, 0) ;
  b = wpool_spawn(&p, 7, wargv, envp, 0, 0) ;
  x = wpool_spawn(&p, 9, wargv, envp, 0, 0) ;
  CHECK(a >= 0 && b >= 0 && x >= 0) ;
  CHECK(wpool_spawn(&p, 7, wargv, envp, 0, 0) < 0) ;
  CHECK(wpool_count(&p, &busy) == 3 && !busy) ;
  CHECK(wpool_idle(&p, 8) < 0) ;
  CHECK(wpool_idle(&p, 9) == x) ;
  /* the one idle the shortest is taken first */
  tain_now_g() ;
  tain_addsec(&p.w[a].idle, &STAMP, -10) ;
  CHECK(wpool_idle(&p, 7) == b) ;
  p.w[b].busy = 1 ;
  CHECK(wpool_idle(&p, 7) == a) ;
  CHECK(wpool_count(&p, &busy) == 3 && busy == 1) ;
  /* a job: a pipe and a message, answered through the pipe and "d" */
  if (pipe(pp) < 0) strerr_diefu1sys(111, "pipe") ;
  CHECK(wpool_sendfd(p.w[b].fd, pp[1], "hello", 5)) ;
  fd_close(pp[1]) ;
  n = allread(pp[0], buf, sizeof buf) ;
  CHECK(n == 5 && !memcmp(buf, "hello", 5)) ;
  fd_close(pp[0]) ;
  /* our end is non-blocking: wait for the answer here */
  CHECK(ndelay_off(p.w[b].fd) == 0) ;
  CHECK(fd_read(p.w[b].fd, &c, 1) == 1 && c == 'd') ;
  /* expiry retires idle workers only: a and x, not the busy b */
  tain_addsec(&limit, &STAMP, 5) ;
  CHECK(wpool_expire(&p, &limit) == 2) ;
  CHECK(p.w[a].fd < 0 && p.w[x].fd < 0 && p.w[b].fd >= 0) ;
  CHECK(wpool_idle(&p, 7) < 0) ;
  reap(&p, p.w[a].pid) ;
  reap(&p, p.w[x].pid) ;
  wpool_retire(&p, (unsigned int)b) ;
  reap(&p, p.w[b].pid) ;
  CHECK(wpool_count(&p, &busy) == 0 && !busy) ;
  if (buffer_putsflush(buffer_1, "ok\n") < 0) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
