/* wpool_test: the worker table of wpool.h with real children. Run
   without arguments, it starts copies of itself as workers
   ("wpool-worker worker", under a hook that sets their umask), hands
   one a pipe and checks the answer, the choice of a worker, the uses
   bound, expiry and reaping, a failing hook and a failing exec; prints
   "ok". Exits 0 if all held, 1 with the check that failed, 111 on a
   system error. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "wpool.h"

#define CHECK(c) do { if (!(c)) strerr_dief1x(1, "failed: " #c) ; } while (0)
/* what the hook sets, and what the worker checks it got */
#define HOOK_UMASK 027

/* each job: the message written back into the descriptor, then "d" */
static int worker (char const *name)
{
  char buf[WPOOL_MSG_MAX] ;
  if (strcmp(name, "wpool-worker") || umask(0) != HOOK_UMASK) return 1 ;
  for (;;)
  {
    int fd ;
    ssize_t r = wpool_recvfd(0, &fd, buf, sizeof buf, 0) ;
    if (!r) return 0 ;
    if (r < 0 || fd < 0) return 111 ;
    if (allwrite(fd, buf, (size_t)r) < (size_t)r) return 111 ;
    fd_close(fd) ;
    if (fd_write(1, "d", 1) != 1) return 111 ;
  }
}

/* the hooks run in a vfork child: system calls only */
static int hook (void *data)
{
  (void)data ;
  umask(HOOK_UMASK) ;
  return 1 ;
}

static int refuse (void *data)
{
  (void)data ;
  errno = EPERM ;
  return 0 ;
}

/* reaps worker i, which must exit with code */
static void reap (wpool *p, int i, int code)
{
  int wstat ;
  CHECK(i >= 0) ;
  CHECK(waitpid(p->w[i].pid, &wstat, 0) == p->w[i].pid) ;
  CHECK(WIFEXITED(wstat) && WEXITSTATUS(wstat) == code) ;
  CHECK(wpool_find(p, p->w[i].pid) == i) ;
  wpool_free(p, (unsigned int)i) ;
}

int main (int argc, char const *const *argv)
{
  wpool_worker table[4] ;
  wpool p ;
  char self[4096], buf[64], c ;
  char const *wargv[3] = { "wpool-worker", "worker", 0 } ;
  char const *envp[1] = { 0 } ;
  wpool_prog prog = { .path = self, .argv = wargv, .envp = envp, .child = &hook, .data = 0 } ;
  wpool_prog bad = prog ;
  iopause_fd x[8] ;
  unsigned int tok[8] ;
  int a, b, w, e, pp[2] ;
  unsigned int busy ;
  mode_t mask ;
  ssize_t n ;
  tain limit ;
  PROG = "wpool_test" ;
  if (argc == 2 && !strcmp(argv[1], "worker")) return worker(argv[0]) ;
  n = readlink("/proc/self/exe", self, sizeof self - 1) ;
  if (n < 0) strerr_diefu1sys(111, "readlink /proc/self/exe") ;
  self[n] = 0 ;
  mask = umask(022) ;
  /* two jobs per worker over its life */
  wpool_init(&p, table, 4, 2) ;
  a = wpool_spawn(&p, 7, &prog) ;
  b = wpool_spawn(&p, 7, &prog) ;
  w = wpool_spawn(&p, 9, &prog) ;
  CHECK(a >= 0 && b >= 0 && w >= 0) ;
  /* the hook ran in the child alone */
  CHECK(umask(mask) == 022) ;
  /* a hook that fails: the child exits 111; an exec that fails: 127 */
  bad.child = &refuse ;
  reap(&p, wpool_spawn(&p, 5, &bad), 111) ;
  bad.child = 0 ;
  bad.path = "/nonexistent/wpool-worker" ;
  reap(&p, wpool_spawn(&p, 5, &bad), 127) ;
  /* no room past max */
  e = wpool_spawn(&p, 5, &prog) ;
  CHECK(e >= 0) ;
  CHECK(wpool_spawn(&p, 7, &prog) < 0 && errno == EBUSY) ;
  wpool_retire(&p, (unsigned int)e) ;
  reap(&p, e, 0) ;
  CHECK(wpool_count(&p, &busy) == 3 && !busy) ;
  CHECK(wpool_pick(&p, 8) < 0) ;
  CHECK(wpool_pick(&p, 9) == w) ;
  /* of the idle ones, the one idle the shortest is picked; the one
     idle the longest is the oldest */
  tain_now_g() ;
  tain_addsec(&p.w[a].idle, &STAMP, -10) ;
  CHECK(wpool_pick(&p, 7) == b) ;
  CHECK(wpool_oldest(&p) == a) ;
  /* a job: the one with fewer jobs is picked next; a busy one is never
     the oldest */
  wpool_give(&p, (unsigned int)b) ;
  CHECK(wpool_pick(&p, 7) == a) ;
  CHECK(wpool_count(&p, &busy) == 3 && busy == 1) ;
  tain_addsec(&p.w[w].idle, &STAMP, -20) ;
  CHECK(wpool_oldest(&p) == w) ;
  tain_addsec(&p.w[b].idle, &STAMP, -30) ;
  CHECK(wpool_oldest(&p) == w) ;
  /* the job: a pipe and a message, answered through the pipe and "d" */
  if (pipe(pp) < 0) strerr_diefu1sys(111, "pipe") ;
  CHECK(wpool_sendfd(p.w[b].fd, pp[1], "hello", 5)) ;
  fd_close(pp[1]) ;
  n = allread(pp[0], buf, sizeof buf) ;
  CHECK(n == 5 && !memcmp(buf, "hello", 5)) ;
  fd_close(pp[0]) ;
  /* our end is non-blocking: wait for the answer here */
  CHECK(ndelay_off(p.w[b].fd) == 0) ;
  CHECK(fd_read(p.w[b].fd, &c, 1) == 1 && c == 'd') ;
  wpool_done(&p, (unsigned int)b) ;
  CHECK(!p.w[b].busy && p.w[b].fd >= 0 && wpool_pick(&p, 7) == b) ;
  /* its second and last job: it is picked no more, and retired once
     done */
  wpool_give(&p, (unsigned int)b) ;
  CHECK(wpool_pick(&p, 7) == a) ;
  wpool_done(&p, (unsigned int)b) ;
  CHECK(p.w[b].fd < 0 && wpool_pick(&p, 7) == a) ;
  /* the ends to read: live workers only, tokens from base */
  CHECK(wpool_fds(&p, x, tok, 10, 8) == 2) ;
  CHECK(tok[0] == 10 + (unsigned int)(a < w ? a : w) && tok[1] == 10 + (unsigned int)(a < w ? w : a)) ;
  CHECK(x[0].fd == p.w[tok[0] - 10].fd && x[0].events == IOPAUSE_READ) ;
  CHECK(wpool_fds(&p, x, tok, 0, 1) == 1) ;
  /* expiry retires idle workers only: a and w, not the busy one */
  wpool_give(&p, (unsigned int)a) ;
  tain_addsec(&limit, &STAMP, 5) ;
  CHECK(wpool_expire(&p, &limit) == 1) ;
  CHECK(p.w[w].fd < 0 && p.w[a].fd >= 0) ;
  /* idle since limit, not before it */
  wpool_done(&p, (unsigned int)a) ;
  limit = p.w[a].idle ;
  CHECK(wpool_expire(&p, &limit) == 0) ;
  tain_addsec(&limit, &p.w[a].idle, 1) ;
  CHECK(wpool_expire(&p, &limit) == 1) ;
  CHECK(wpool_pick(&p, 7) < 0 && wpool_oldest(&p) < 0) ;
  reap(&p, a, 0) ;
  reap(&p, w, 0) ;
  reap(&p, b, 0) ;
  CHECK(wpool_count(&p, &busy) == 0 && !busy) ;
  if (buffer_putsflush(buffer_1, "ok\n") < 0) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
