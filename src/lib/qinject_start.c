#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "home.h"
#include "qinject.h"

extern char **environ ;

/* posix_spawn, not fork: glibc's vfork-style clone does not copy the
   caller's page tables, which saves a large part of a message's CPU in
   smtpd (bench/README.md); an exec failure comes back as an error here */
int qinject_start (qinject *q, int msgfd, int errfd)
{
  stralloc path = STRALLOC_ZERO ;
  char const *argv[2] = { "queue-inject", 0 } ;
  int pm[2] = { -1, -1 }, pe[2] = { -1, -1 } ;
  posix_spawn_file_actions_t fa ;
  int in, e ;
  if (!stralloc_cats(&path, home_dir()) || !stralloc_cats(&path, "/bin/queue-inject")
   || !stralloc_0(&path)) return 0 ;
  if ((msgfd < 0 && pipecoe(pm) < 0) || pipecoe(pe) < 0) { e = errno ; goto fail ; }
  in = msgfd >= 0 ? msgfd : pm[0] ;
  if ((e = posix_spawn_file_actions_init(&fa))) goto fail ;
  /* dup2 onto itself clears close-on-exec too (glibc 2.29 and later) */
  if (!(e = posix_spawn_file_actions_adddup2(&fa, in, 0))
   && !(e = posix_spawn_file_actions_adddup2(&fa, pe[0], 1))
   && !(errfd >= 0 && errfd != 2 && (e = posix_spawn_file_actions_adddup2(&fa, errfd, 2))))
    e = posix_spawn(&q->pid, path.s, &fa, 0, (char *const *)argv, environ) ;
  posix_spawn_file_actions_destroy(&fa) ;
  if (e) goto fail ;
  stralloc_free(&path) ;
  if (pm[0] >= 0) fd_close(pm[0]) ;
  fd_close(pe[0]) ;
  q->msg = pm[1] ;
  q->env = pe[1] ;
  return 1 ;
 fail:
  if (pm[0] >= 0) { fd_close(pm[0]) ; fd_close(pm[1]) ; }
  if (pe[0] >= 0) { fd_close(pe[0]) ; fd_close(pe[1]) ; }
  stralloc_free(&path) ;
  return (errno = e, 0) ;
}
