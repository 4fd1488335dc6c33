#include <stdlib.h>
#include <unistd.h>
#include <signal.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include "local.h"

/* fork, not posix_spawn: the child needs setpgid (so a timeout can kill
   the program's whole group) and its environment set; local forks at
   most once per program or forward line */
pid_t local_spawn (char const *path, char const *const *argv, char const *const *env, int fd0, int fd1, int fd2)
{
  pid_t pid = fork() ;
  if (pid) return pid ;
  /* every fd local opens is close-on-exec and numbered 3 or more, so
     these dup2s never clobber each other */
  /* local ignores SIGPIPE; a program must not inherit that */
  if (!sig_restore(SIGPIPE) || setpgid(0, 0) < 0 || dup2(fd0, 0) < 0 || dup2(fd1, 1) < 0 || dup2(fd2, 2) < 0)
    strerr_diefu1sys(111, "set up the child's descriptors") ;
  for (; env && *env ; env += 2)
    if (setenv(env[0], env[1], 1) < 0) strerr_diefu2sys(111, "setenv ", env[0]) ;
  execv(path, (char *const *)argv) ;
  strerr_diefu2sys(111, "exec ", path) ;
}
