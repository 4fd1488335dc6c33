#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "home.h"
#include "qinject.h"

extern char **environ ;

/* The writer when its socket takes the connection at once; -1 when it
   is absent, refuses, or has a full backlog (EAGAIN): nothing was sent
   yet, so queue-inject can take the message instead. */
static int writer_connect (void)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX } ;
  struct timeval tv = { .tv_sec = QINJECT_TIMEOUT, .tv_usec = 0 } ;
  char const *home = home_dir() ;
  size_t hl = strlen(home) ;
  int fd ;
  if (hl + 1 + sizeof QINJECT_SOCKET > sizeof sa.sun_path) return -1 ;
  memcpy(sa.sun_path, home, hl) ;
  sa.sun_path[hl] = '/' ;
  memcpy(sa.sun_path + hl + 1, QINJECT_SOCKET, sizeof QINJECT_SOCKET) ;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) ;
  if (fd < 0) return -1 ;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || ndelay_off(fd) < 0
   || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0
   || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
  {
    fd_close(fd) ;
    return -1 ;
  }
  return fd ;
}

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
  q->sock = -1 ;
  q->broken = 0 ;
  q->id[0] = 0 ;
  if (msgfd < 0 && (q->sock = writer_connect()) >= 0)
  {
    q->pid = 0 ; q->msg = -1 ; q->env = -1 ;
    return 1 ;
  }
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
