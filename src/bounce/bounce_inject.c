#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "bounce.h"
#include "envelope.h"
#include "home.h"
#include "qexit.h"

extern char **environ ;

static pid_t spawn (int *pm, int *pe)
{
  stralloc path = STRALLOC_ZERO ;
  char const *argv[2] = { "queue-inject", 0 } ;
  pid_t pid ;
  if (!stralloc_cats(&path, home_dir()) || !stralloc_cats(&path, "/bin/queue-inject")
   || !stralloc_0(&path))
    strerr_diefu1sys(111, "allocate") ;
  if (pipecoe(pm) < 0 || pipecoe(pe) < 0) strerr_diefu1sys(111, "create pipes") ;
  pid = fork() ;
  if (pid < 0) strerr_diefu1sys(111, "fork") ;
  if (pid) { stralloc_free(&path) ; fd_close(pm[0]) ; fd_close(pe[0]) ; return pid ; }
  /* fd_move keeps close-on-exec when a pipe already is 0 or 1 */
  if (fd_move2(0, pm[0], 1, pe[0]) < 0 || uncoe(0) < 0 || uncoe(1) < 0)
  {
    strerr_warnwu1sys("move descriptors") ;
    _exit(111) ;
  }
  execve(path.s, (char *const *)argv, environ) ;
  strerr_warnwu2sys("exec ", path.s) ;
  _exit(111) ;
}

/* queue-inject reads fd 0 to end of file before it reads fd 1, so the
   message goes first, then the envelope, which fits in a pipe. */
void bounce_inject (char const *id, char const *msg, size_t msglen, char const *sender, char const *rcpt)
{
  stralloc env = STRALLOC_ZERO ;
  char fmt[UINT_FMT] ;
  int pm[2], pe[2], wstat ;
  pid_t pid ;
  if (!env_put(&env, 'F', sender, strlen(sender)) || !env_put(&env, 'T', rcpt, strlen(rcpt))
   || !stralloc_0(&env))
    strerr_diefu1sys(111, "allocate") ;
  pid = spawn(pm, pe) ;
  /* after a short write (EPIPE: queue-inject is gone) no envelope is
     sent, so a queue-inject still there refuses the cut message */
  if (allwrite(pm[1], msg, msglen) < msglen)
  {
    if (errno != EPIPE) strerr_warnwu1sys("write the message to queue-inject") ;
    fd_close(pm[1]) ;
  }
  else
  {
    fd_close(pm[1]) ;
    if (allwrite(pe[1], env.s, env.len) < env.len && errno != EPIPE)
      strerr_warnwu1sys("write the envelope to queue-inject") ;
  }
  fd_close(pe[1]) ;
  if (wait_pid(pid, &wstat) < 0) strerr_diefu1sys(111, "wait for queue-inject") ;
  if (WIFSIGNALED(wstat))
  {
    fmt[uint_fmt(fmt, WTERMSIG(wstat))] = 0 ;
    strerr_dief4x(111, "unable to queue the notice for ", id, ": queue-inject killed by signal ", fmt) ;
  }
  if (WEXITSTATUS(wstat))
  {
    fmt[uint_fmt(fmt, WEXITSTATUS(wstat))] = 0 ;
    strerr_dief6x(111, "unable to queue the notice for ", id, ": queue-inject exited ", fmt,
                  ": ", qexit_lookup(WEXITSTATUS(wstat))->text) ;
  }
  stralloc_free(&env) ;
}
