#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/bufalloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "accounts.h"
#include "home.h"
#include "send.h"

/* longest records each child may send (their man pages) */
#define SMALL_REPLY_MAX 4096
#define PIPE_WANT (1 << 20)

struct child send_children[C_N] =
{
  [C_RECORD] = { .name = "record", .max = STATE_REPLY_MAX },
  [C_CLEAN] = { .name = "clean", .max = SMALL_REPLY_MAX },
  [C_LSPAWN] = { .name = "lspawn", .max = 256 * 1024 },
  [C_RSPAWN] = { .name = "rspawn", .max = 256 * 1024 },
} ;

struct account { uid_t uid ; gid_t gid ; int set ; char const *name ; } ;

static struct account lookup (char const *name)
{
  struct passwd *pw ;
  errno = 0 ;
  pw = getpwnam(name) ;
  if (!pw)
  {
    if (errno) strerr_diefu2sys(111, "look up account ", name) ;
    strerr_dief3x(111, "account ", name, " does not exist: see send_conf-users and INSTALL") ;
  }
  return (struct account){ pw->pw_uid, pw->pw_gid, 1, name } ;
}

/* the account's groups (the shared group of send_conf-users among them),
   gid, uid, each checked, as s6-applyuidgid does */
static void become (struct account const *a)
{
  if (!a->set) return ;
  if (initgroups(a->name, a->gid) < 0 || setgid(a->gid) < 0 || setuid(a->uid) < 0)
    strerr_diefu1sys(111, "drop privileges") ;
  if (!getuid() || !geteuid()) strerr_dief1x(111, "still root after dropping privileges") ;
}

static void spawn (struct child *c, struct account const *a)
{
  int in[2], out[2] ;
  char prog[4096] ;
  char const *home = home_dir() ;
  size_t n = strlen(home), m = strlen(c->name) ;
  if (n + m + 6 > sizeof prog) strerr_dief1x(111, "home path too long") ;
  memcpy(prog, home, n) ;
  memcpy(prog + n, "/bin/", 5) ;
  memcpy(prog + n + 5, c->name, m + 1) ;
  if (pipecoe(in) < 0 || pipecoe(out) < 0) strerr_diefu1sys(111, "create pipes") ;
  c->pid = fork() ;
  if (c->pid < 0) strerr_diefu2sys(111, "fork for ", c->name) ;
  if (!c->pid)
  {
    char const *argv[2] = { prog, 0 } ;
    PROG = c->name ;
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) strerr_diefu1sys(111, "move descriptors") ;
    become(a) ;
    execv(prog, (char *const *)argv) ;
    strerr_dieexec(111, prog) ;
  }
  fd_close(in[0]) ;
  fd_close(out[1]) ;
  c->in = in[1] ;
  c->out = out[0] ;
  /* A large pipe: what send has written is the child's even if send is
     killed, and record records every result it holds before exiting; a
     result still in send's own buffer is lost and its delivery repeated.
     Linux's default largest pipe; a smaller pipe is only slower. */
  if (fcntl(c->in, F_SETPIPE_SZ, PIPE_WANT) < 0 && errno != EPERM)
    strerr_warnwu2sys("enlarge the pipe to ", c->name) ;
  if (ndelay_on(c->in) < 0 || ndelay_on(c->out) < 0) strerr_diefu1sys(111, "set pipes non-blocking") ;
  bufalloc_init(&c->w, &fd_write, c->in) ;
  buffer_init(&c->r, &buffer_read, c->out, c->rbuf, sizeof c->rbuf) ;
}

/* As root: lspawn keeps root, rspawn runs as the remote account, record
   as send's and clean as the queue's, then send itself drops to its
   account. Otherwise every
   process runs as the caller. */
void send_children_start (void)
{
  struct account none = { 0, 0, 0, 0 } ;
  struct account send = none, queue = none, remote = none ;
  int root = !getuid() ;
  if (root)
  {
    send = lookup(auto_user_send) ;
    queue = lookup(auto_user_queue) ;
    remote = lookup(auto_user_remote) ;
  }
  spawn(&send_children[C_LSPAWN], &none) ;
  spawn(&send_children[C_RSPAWN], &remote) ;
  spawn(&send_children[C_RECORD], &send) ;
  spawn(&send_children[C_CLEAN], &queue) ;
  become(&send) ;
  if (!root)
  {
    char fmt[UID_FMT] ;
    fmt[uid_fmt(fmt, getuid())] = 0 ;
    strerr_warnw3x("not started as root: every process runs as uid ", fmt, ", deliveries included") ;
  }
}

/* One request (each call is one whole record), queued in memory and
   written as the pipe takes it: send never blocks
   on a child. What is queued is bounded by the jobs and messages held. */
int send_child_put (struct child *c, char const *s, size_t len)
{
  if (c->in < 0) strerr_dief2x(101, "request to a closed child: ", c->name) ;
  if (!bufalloc_put(&c->w, s, len)) strerr_diefu1sys(111, "allocate") ;
  c->pending++ ;
  return 1 ;
}
