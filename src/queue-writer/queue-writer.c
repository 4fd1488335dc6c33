/* queue-writer: takes messages from many clients at once on a unix
   socket and queues them as queue-inject does, committing the ones
   that are whole together (one fsync round for the group). Runs as the
   queue owner. Protocol and limits in queue-writer(8); stats on stdout,
   warnings on stderr. */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "control.h"
#include "fdlimit.h"
#include "home.h"
#include "qexit.h"
#include "queue-writer.h"

#define USAGE "queue-writer [ -p fsyncs ]"
/* a stats line at most this often when something changed, and on SIGUSR1 */
#define STATS_INTERVAL 60

unsigned long qw_databytes ;
/* where the round robin over the queue roots goes on */
static unsigned int qw_root ;
static qw_client clients[QW_CLIENTS_MAX] ;
static unsigned int nclients ;

static int listen_socket (void)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX } ;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) ;
  if (fd < 0) strerr_diefu1sys(111, "create socket") ;
  memcpy(sa.sun_path, QW_SOCKET, sizeof QW_SOCKET) ;
  if (unlink(QW_SOCKET) < 0 && errno != ENOENT) strerr_diefu2sys(111, "remove old ", QW_SOCKET) ;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) strerr_diefu2sys(111, "bind ", QW_SOCKET) ;
  /* any local user may connect, as any may run queue-inject */
  if (chmod(QW_SOCKET, 0777) < 0) strerr_diefu2sys(111, "chmod ", QW_SOCKET) ;
  if (listen(fd, QW_BACKLOG) < 0) strerr_diefu2sys(111, "listen on ", QW_SOCKET) ;
  return fd ;
}

static void notify_ready (void)
{
  char const *s = getenv("POSTERN_NOTIFY_FD") ;
  unsigned int fd ;
  if (!s || !*s) return ;
  if (!uint0_scan(s, &fd) || fd < 3) { strerr_warnw2x("bad POSTERN_NOTIFY_FD: ", s) ; return ; }
  if (fd_write(fd, "\n", 1) != 1) strerr_warnwu1sys("notify readiness") ;
  fd_close(fd) ;
}

static void new_client (int fd)
{
  qw_client *c = clients + nclients ;
  struct ucred cred ;
  socklen_t len = sizeof cred ;
  char line[QWRITE_RECEIVED_MAX] ;
  size_t n ;
  memset(c, 0, sizeof *c) ;
  c->fd = fd ;
  c->m = (qwrite_msg)QWRITE_MSG_ZERO ;
  c->ec = (env_check)ENV_CHECK_ZERO ;
  c->state = Q_LEN ;
  tain_addsec_g(&c->end, QW_LIFETIME) ;
  tain_addsec_g(&c->deadline, QW_TIMEOUT) ;
  nclients++ ;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
  {
    strerr_warnwu1sys("read the client's credentials") ;
    qw_answer(c, QX_BUG) ;
    return ;
  }
  c->uid = cred.uid ;
  if (!qwrite_body(&c->m, (int)qw_sub, &qw_root, qwrite_room(qw_databytes)))
  {
    strerr_warnwu1sys(errno == EEXIST ? "find a free message id" : "create body in any queue root") ;
    qw_answer(c, c->m.code) ;
    return ;
  }
  n = qwrite_received(line, getpid(), c->uid) ;
  if (allwrite(c->m.body, line, n) < n)
  {
    strerr_warnwu2sys("write body ", c->m.id) ;
    qw_fail(c, QX_WRITE) ;
  }
}

static void accept_all (int lfd)
{
  while (nclients < QW_CLIENTS_MAX)
  {
    int fd = accept4(lfd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC) ;
    if (fd < 0)
    {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        strerr_warnwu1sys("accept") ;
      return ;
    }
    new_client(fd) ;
  }
}

/* drops the closed clients, keeping the others in order */
static void compact (void)
{
  unsigned int j = 0 ;
  for (unsigned int i = 0 ; i < nclients ; i++)
    if (clients[i].fd >= 0) { if (i != j) clients[j] = clients[i] ; j++ ; }
  nclients = j ;
}

int main (int argc, char const *const *argv)
{
  iopause_fd x[2 + QW_CLIENTS_MAX] ;
  unsigned int par = QW_SYNC_DEFAULT ;
  int lfd, sfd, stopping = 0, changed = 0 ;
  tain grace, nextstats ;
  PROG = "queue-writer" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    int opt ;
    while ((opt = subgetopt_r(argc, argv, "p:", &l)) != -1)
    {
      if (opt != 'p' || !uint0_scan(l.arg, &par) || !par || par > QWRITE_SYNC_MAX)
        strerr_dieusage(100, USAGE) ;
    }
    if (l.ind != argc) strerr_dieusage(100, USAGE) ;
  }
  umask(027) ;
  /* per client its socket, body and intake files; a commit adds a
     directory per subdirectory touched, twice */
  fdlimit_raise(3 * QW_CLIENTS_MAX + 2 * auto_split + 16) ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (control_readuint(&qw_databytes, "databytes", QWRITE_DATABYTES_DEFAULT) < 0)
    strerr_diefu1sys(111, "read control/databytes") ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  sfd = selfpipe_init() ;
  if (sfd < 0 || !selfpipe_trap(SIGTERM) || !selfpipe_trap(SIGUSR1)
   || !selfpipe_trap(SIGHUP) || !sig_ignore(SIGPIPE))
    strerr_diefu1sys(111, "set signal handlers") ;
  lfd = listen_socket() ;
  tain_now_set_stopwatch_g() ;
  tain_addsec_g(&nextstats, STATS_INTERVAL) ;
  notify_ready() ;
  for (;;)
  {
    tain deadline = nextstats ;
    unsigned int n = 0, first ;
    int listening = !stopping && nclients < QW_CLIENTS_MAX ;
    int r ;
    if (stopping && (!nclients || !tain_future(&grace))) break ;
    if (stopping && tain_less(&grace, &deadline)) deadline = grace ;
    x[n].fd = sfd ; x[n++].events = IOPAUSE_READ ;
    if (listening) { x[n].fd = lfd ; x[n++].events = IOPAUSE_READ ; }
    first = n ;
    /* every client is committed or dropped at the end of the turn that
       completed it, so all of these are still reading */
    for (unsigned int i = 0 ; i < nclients ; i++)
    {
      if (tain_less(&clients[i].deadline, &deadline)) deadline = clients[i].deadline ;
      x[n].fd = clients[i].fd ; x[n++].events = IOPAUSE_READ ;
    }
    r = iopause_g(x, n, &deadline) ;
    if (r < 0) { if (errno == EINTR) continue ; strerr_diefu1sys(111, "iopause") ; }
    if (x[0].revents & IOPAUSE_READ)
    {
      int sig ;
      while ((sig = selfpipe_read()) > 0)
      {
        if (sig == SIGUSR1) qw_stats() ;
        else if (sig == SIGHUP)
        {
          unsigned long d ;
          if (control_readuint(&d, "databytes", QWRITE_DATABYTES_DEFAULT) < 0)
            strerr_warnwu1sys("read control/databytes") ;
          else qw_databytes = d ;
          /* an appended or drained root counts from the next message */
          if (queue_roots_load() < 0) strerr_warnwu1sys("read " QUEUE_ROOTS_FILE) ;
        }
        else if (sig == SIGTERM && !stopping)
        {
          /* new clients go to queue-inject from now on */
          stopping = 1 ;
          unlink(QW_SOCKET) ;
          fd_close(lfd) ;
          tain_addsec_g(&grace, QW_GRACE) ;
        }
      }
    }
    /* clients before new ones: the indexes of x stay those of clients */
    for (unsigned int k = first ; k < n ; k++)
    {
      qw_client *c = clients + (k - first) ;
      if (c->fd < 0 || c->state == Q_READY) continue ;
      if (x[k].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) qw_read(c) ;
    }
    if (listening && !stopping && x[1].revents & IOPAUSE_READ) accept_all(lfd) ;
    for (unsigned int i = 0 ; i < nclients ; i++)
      if (clients[i].fd >= 0 && clients[i].state != Q_READY && !tain_future(&clients[i].deadline))
        qw_fail(clients + i, QX_TIMEOUT) ;
    {
      unsigned int before = nclients ;
      qw_commit(clients, nclients, par) ;
      compact() ;
      if (nclients != before) changed = 1 ;
    }
    if (!tain_future(&nextstats))
    {
      if (changed) qw_stats() ;
      changed = 0 ;
      tain_addsec_g(&nextstats, STATS_INTERVAL) ;
    }
  }
  /* the grace is over: what is still unfinished is given up, not left
     to clean */
  for (unsigned int i = 0 ; i < nclients ; i++)
    if (clients[i].fd >= 0) qw_fail(clients + i, QX_TIMEOUT) ;
  qw_stats() ;
  return 0 ;
}
