#include <errno.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include "qinject.h"

/* queue-inject reads fd 0 to end of file before it reads fd 1: the
   message pipe is closed first, then the envelope, which fits a pipe,
   is written. A short write means queue-inject died; its exit code
   says why. */
int qinject_finish (qinject *q, char const *env, size_t envlen)
{
  int wstat ;
  if (q->msg >= 0) { fd_close(q->msg) ; q->msg = -1 ; }
  if (env) allwrite(q->env, env, envlen) ;
  fd_close(q->env) ;
  q->env = -1 ;
  if (wait_pid(q->pid, &wstat) < 0) return -1 ;
  return WIFEXITED(wstat) ? WEXITSTATUS(wstat) : 256 + WTERMSIG(wstat) ;
}
