/* One child per recipient: the body on fd 0, a pipe on fds 1 and 2,
   the recipient's ids, cwd = its home, then local.

   vfork, not fork: fork copies lspawn's page tables for every delivery,
   and on our VMs that copy was 16 % of all CPU spent per message. The
   child shares lspawn's memory until it execs, so it only makes system
   calls: it drops root with the raw syscalls, which change the calling
   task alone (glibc's wrappers may signal other threads to follow, which
   a vfork child must not do). */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "queue.h"
#include "wpool.h"
#include "lspawn.h"

static stralloc prog = STRALLOC_ZERO ;
static stralloc envhome = STRALLOC_ZERO ;

void lspawn_spawn_init (char const *home)
{
  if (!stralloc_cats(&prog, home) || !stralloc_cats(&prog, "/bin/local") || !stralloc_0(&prog)
   || !stralloc_cats(&envhome, "POSTERN_HOME=") || !stralloc_cats(&envhome, home) || !stralloc_0(&envhome))
    strerr_diefu1sys(111, "allocate") ;
}

/* In the child, fd 2 is the pipe once moved: the line becomes the result. */
static void child_die (char const *what, char const *obj)
{
  char const *e = strerror(errno) ;
  char const *parts[] = { "4.3.0 lspawn: unable to ", what, obj, ": ", e, "\n" } ;
  for (unsigned int i = 0 ; i < sizeof parts / sizeof *parts ; i++)
    allwrite(2, parts[i], strlen(parts[i])) ;
  _exit(111) ;
}

/* lspawn blocks SIGCHLD for its selfpipe and ignores SIGPIPE: both
   would survive the exec */
static void signals (void)
{
  sig_blocknone() ;
  if (!sig_restore(SIGPIPE)) child_die("restore ", "SIGPIPE") ;
}

static void drop (uid_t uid, gid_t gid)
{
  if (!lspawn_root) return ;
  if (syscall(SYS_setgroups, 1, &gid) < 0) child_die("setgroups", "") ;
  if (syscall(SYS_setresgid, gid, gid, gid) < 0) child_die("setgid", "") ;
  if (syscall(SYS_setresuid, uid, uid, uid) < 0) child_die("setuid", "") ;
  if (!getuid() || !geteuid()) { errno = EPERM ; child_die("drop root", "") ; }
}

static void child (lspawn_delivery const *d, int body, int w)
{
  char const *argv[11] ;
  char const *envp[3] = { envhome.s, "PATH=/usr/bin:/bin", 0 } ;
  unsigned int n = 0 ;
  signals() ;
  if (fd_move(0, body) < 0 || fd_copy(2, w) < 0 || fd_move(1, w) < 0) child_die("move ", "descriptors") ;
  drop(d->uid, d->gid) ;
  if (chdir(d->home) < 0) child_die("chdir to ", d->home) ;
  argv[n++] = "local" ;
  if (d->addrs) { argv[n++] = "-a" ; argv[n++] = d->addrs ; }
  argv[n++] = d->user ;
  argv[n++] = d->home ;
  argv[n++] = d->localname ;
  argv[n++] = d->ext ;
  argv[n++] = d->domain ;
  argv[n++] = d->sender ;
  argv[n++] = d->recipient ;
  argv[n] = 0 ;
  execve(prog.s, (char *const *)argv, (char *const *)envp) ;
  child_die("exec ", prog.s) ;
}

void lspawn_spawn (unsigned int r, lspawn_delivery const *d)
{
  char path[QUEUE_PATH_MAX] ;
  int p[2] ;
  int body ;
  pid_t pid ;
  queue_path(path, QUEUE_BODY, d->msgid) ;
  /* as root: the recipient cannot read the queue; each child needs its
     own open file, at offset 0 */
  body = open(path, O_RDONLY | O_CLOEXEC) ;
  if (body < 0) { lspawn_final(r, 'Z', "4.3.0 unable to open the message: ", strerror(errno), 0) ; return ; }
  if (pipe2(p, O_CLOEXEC) < 0)
  {
    lspawn_final(r, 'Z', "4.3.0 unable to create a pipe: ", strerror(errno), 0) ;
    fd_close(body) ;
    return ;
  }
  /* lspawn never blocks on one child, not even on a grandchild that
     keeps the pipe open after local exits */
  if (ndelay_on(p[0]) < 0)
  {
    lspawn_final(r, 'Z', "4.3.0 unable to set up a pipe: ", strerror(errno), 0) ;
    fd_close(p[0]) ; fd_close(p[1]) ; fd_close(body) ;
    return ;
  }
  pid = vfork() ;
  if (!pid) child(d, body, p[1]) ;
  fd_close(body) ;
  fd_close(p[1]) ;
  if (pid < 0)
  {
    lspawn_final(r, 'Z', "4.3.0 unable to fork: ", strerror(errno), 0) ;
    fd_close(p[0]) ;
    return ;
  }
  lspawn_rcpts[r].pid = pid ;
  lspawn_rcpts[r].fd = p[0] ;
}

/* The hook of a worker's start (wpool_spawn: a vfork child, fds 0 and
   1 the socket, signals reset): fd 1 and 2 on /dev/null, cwd / until
   its first delivery. Not on lspawn's log: once local runs, its account
   can ptrace it and would write what it likes there; lspawn logs how a
   worker ended instead. Until then fd 2 still takes our errors. Never
   as root. */
static int worker (void *data)
{
  lspawn_ids const *id = data ;
  int null = open("/dev/null", O_WRONLY) ;
  if (null < 0) child_die("open ", "/dev/null") ;
  if (fd_move(1, null) < 0) child_die("move ", "descriptors") ;
  drop(id->uid, id->gid) ;
  if (!getuid() || !geteuid()) { errno = EPERM ; child_die("start a delivery worker as root", "") ; }
  if (chdir("/") < 0) child_die("chdir to ", "/") ;
  if (fd_copy(2, 1) < 0) child_die("move ", "descriptors") ;
  return 1 ;
}

int lspawn_spawn_worker (wpool *p, uint64_t key, lspawn_ids const *id)
{
  char const *argv[3] = { "local", "-w", 0 } ;
  char const *envp[3] = { envhome.s, "PATH=/usr/bin:/bin", 0 } ;
  wpool_prog const w = { .path = prog.s, .argv = argv, .envp = envp, .child = &worker, .data = (void *)id } ;
  return wpool_spawn(p, key, &w) ;
}
