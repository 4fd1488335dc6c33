#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "home.h"
#include "qinject.h"

extern char **environ ;

int qinject_start (qinject *q, int msgfd, int errfd)
{
  stralloc path = STRALLOC_ZERO ;
  char const *argv[2] = { "queue-inject", 0 } ;
  int pm[2] = { -1, -1 }, pe[2] ;
  if (!stralloc_cats(&path, home_dir()) || !stralloc_cats(&path, "/bin/queue-inject")
   || !stralloc_0(&path)) return 0 ;
  if ((msgfd < 0 && pipecoe(pm) < 0) || pipecoe(pe) < 0)
  {
    int e = errno ;
    if (pm[0] >= 0) { fd_close(pm[0]) ; fd_close(pm[1]) ; }
    stralloc_free(&path) ;
    return (errno = e, 0) ;
  }
  q->pid = fork() ;
  if (q->pid < 0)
  {
    int e = errno ;
    if (pm[0] >= 0) { fd_close(pm[0]) ; fd_close(pm[1]) ; }
    fd_close(pe[0]) ; fd_close(pe[1]) ;
    stralloc_free(&path) ;
    return (errno = e, 0) ;
  }
  if (!q->pid)
  {
    /* dup2 clears close-on-exec; a descriptor already in place keeps it */
    int in = msgfd >= 0 ? msgfd : pm[0] ;
    if ((in != 0 && dup2(in, 0) < 0) || (in == 0 && uncoe(0) < 0)
     || dup2(pe[0], 1) < 0
     || (errfd >= 0 && errfd != 2 && dup2(errfd, 2) < 0)) _exit(111) ;
    execve(path.s, (char *const *)argv, environ) ;
    strerr_warnwu2sys("exec ", path.s) ;
    _exit(111) ;
  }
  stralloc_free(&path) ;
  if (pm[0] >= 0) fd_close(pm[0]) ;
  fd_close(pe[0]) ;
  q->msg = pm[1] ;
  q->env = pe[1] ;
  return 1 ;
}
