/* Delivery workers: one local -w per account (uid and gid) while it has
   deliveries. A recipient is given to its account's worker over the
   socket (ldeliver.h); answers come back in the order given. A worker
   is let go (its socket closed: it ends at end of file) when idle for
   lspawn_worker_idle seconds or once given lspawn_worker_uses
   deliveries; one that dies fails what it was given, temporarily.
   The table is small and self-contained: slots, start, give, read,
   reap, let go. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "queue.h"
#include "lspawn.h"

typedef struct worker_s worker ;
struct worker_s
{
  pid_t pid ;            /* 0: the slot is free */
  int fd ;               /* our end of its socket; -1 once let go */
  uid_t uid ;
  gid_t gid ;
  unsigned int given ;   /* deliveries given over its life */
  unsigned int head, n ; /* the recipients given and not answered, in order */
  unsigned short q[LSPAWN_WORKER_QUEUE] ;
  tain idle ;            /* with n == 0: when it is let go */
} ;

static worker workers[LSPAWN_WORKERS_MAX] ;

static void fail_given (worker *w, char const *why, char const *detail)
{
  while (w->n)
  {
    unsigned int r = w->q[w->head] ;
    w->head = (w->head + 1) % LSPAWN_WORKER_QUEUE ;
    w->n-- ;
    lspawn_rcpts[r].worker = -1 ;
    lspawn_final(r, 'Z', why, detail, 0) ;
  }
}

static void let_go (worker *w)
{
  if (w->fd < 0) return ;
  fd_close(w->fd) ;
  w->fd = -1 ;
}

static void answered (worker *w, char const *s, size_t len)
{
  unsigned int r = w->q[w->head] ;
  unsigned int code ;
  size_t l = strnlen(s, len) ;
  char const *text = s + l + 1 ;
  char status ;
  /* "code\0text\0" */
  if (!l || l + 1 >= len || uint_scan(s, &code) != l || strnlen(text, len - l - 1) != len - l - 2)
  {
    strerr_warnw1x("a delivery worker answered out of protocol: letting it go") ;
    let_go(w) ;
    fail_given(w, "4.3.0 delivery worker answered out of protocol", 0) ;
    return ;
  }
  w->head = (w->head + 1) % LSPAWN_WORKER_QUEUE ;
  w->n-- ;
  lspawn_rcpts[r].worker = -1 ;
  status = !code || code == 99 ? 'K' : code == 100 ? 'D' : 'Z' ;
  if (!*text)
    text = status == 'K' ? "delivered" : status == 'D' ? "5.0.0 local failed permanently, without a reason"
      : "4.3.0 local failed temporarily, without a reason" ;
  lspawn_final(r, status, text, 0, 0) ;
  if (!w->n) tain_addsec_g(&w->idle, (int)lspawn_worker_idle) ;
}

/* reads every answer there is; at end of file or on an error the
   worker is ending: what it was given and did not answer fails when
   it is reaped, with the reason */
void lspawn_worker_read (unsigned int i)
{
  worker *w = workers + i ;
  while (w->fd >= 0)
  {
    char buf[LDELIVER_ANSWER_MAX + 1] ;
    ssize_t r = recv(w->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ;
    if (r <= 0)
    {
      if (r < 0) strerr_warnwu1sys("read a delivery worker's answer") ;
      let_go(w) ;
      return ;
    }
    if (!w->n || (size_t)r > LDELIVER_ANSWER_MAX)
    {
      strerr_warnw1x("a delivery worker answered out of protocol: letting it go") ;
      let_go(w) ;
      fail_given(w, "4.3.0 delivery worker answered out of protocol", 0) ;
      return ;
    }
    answered(w, buf, (size_t)r) ;
  }
}

int lspawn_worker_reaped (pid_t pid, int wstat)
{
  for (unsigned int i = 0 ; i < lspawn_workers_max ; i++)
  {
    worker *w = workers + i ;
    char fmt[INT_FMT] ;
    if (w->pid != pid) continue ;
    /* answers it wrote before it died still count */
    lspawn_worker_read(i) ;
    let_go(w) ;
    w->pid = 0 ;
    fmt[int_fmt(fmt, WIFSIGNALED(wstat) ? WTERMSIG(wstat) : WEXITSTATUS(wstat))] = 0 ;
    if (!WIFEXITED(wstat) || WEXITSTATUS(wstat))
    {
      char u[UID_FMT] ;
      u[uid_fmt(u, w->uid)] = 0 ;
      strerr_warnw4x("delivery worker for uid ", u, WIFSIGNALED(wstat) ? " killed by signal " : " exited ", fmt) ;
    }
    if (!w->n) return 1 ;
    fail_given(w, WIFSIGNALED(wstat) ? "4.3.0 delivery worker killed by signal " : "4.3.0 delivery worker exited ", fmt) ;
    return 1 ;
  }
  return 0 ;
}

/* the worker of uid/gid that can take one more, starting one if there
   is room; -1 if none */
static int find (uid_t uid, gid_t gid)
{
  int free = -1 ;
  for (unsigned int i = 0 ; i < lspawn_workers_max ; i++)
  {
    worker *w = workers + i ;
    if (!w->pid) { if (free < 0) free = (int)i ; continue ; }
    if (w->fd < 0 || w->uid != uid || w->gid != gid) continue ;
    if (w->given < lspawn_worker_uses) return w->n < LSPAWN_WORKER_QUEUE ? (int)i : -1 ;
    /* used up: it ends once it has answered; a new one takes over */
    if (!w->n) let_go(w) ;
  }
  if (free < 0)
  {
    /* full: let the first idle worker go, so the next delivery finds room */
    for (unsigned int i = 0 ; i < lspawn_workers_max ; i++)
      if (workers[i].fd >= 0 && !workers[i].n) { let_go(workers + i) ; break ; }
    return -1 ;
  }
  {
    worker *w = workers + free ;
    pid_t pid = lspawn_spawn_worker(uid, gid, &w->fd) ;
    if (pid < 0) return -1 ;
    w->pid = pid ;
    w->uid = uid ;
    w->gid = gid ;
    w->given = w->head = w->n = 0 ;
    tain_addsec_g(&w->idle, (int)lspawn_worker_idle) ;
  }
  return free ;
}

int lspawn_worker_give (unsigned int r, lspawn_delivery const *d)
{
  char path[QUEUE_PATH_MAX] ;
  char const *f[LDELIVER_FIELDS] = { d->user, d->home, d->localname, d->ext, d->domain, d->sender, d->recipient } ;
  worker *w ;
  int i, body, x ;
  if (!lspawn_workers_max) return 0 ;
  i = find(d->uid, d->gid) ;
  if (i < 0) return 0 ;
  w = workers + i ;
  queue_path(path, QUEUE_BODY, d->msgid) ;
  body = open(path, O_RDONLY | O_CLOEXEC) ;
  if (body < 0) { lspawn_final(r, 'Z', "4.3.0 unable to open the message: ", strerror(errno), 0) ; return 1 ; }
  x = ldeliver_put(w->fd, body, f) ;
  fd_close(body) ;
  if (x < 0)
  {
    /* dead or broken: what it holds fails when it is reaped */
    strerr_warnwu1sys("give a delivery to a worker") ;
    let_go(w) ;
  }
  if (x <= 0) return 0 ;
  w->q[(w->head + w->n++) % LSPAWN_WORKER_QUEUE] = (unsigned short)r ;
  w->given++ ;
  lspawn_rcpts[r].worker = i ;
  return 1 ;
}

unsigned int lspawn_worker_fds (iopause_fd *x, unsigned int *tok, unsigned int max, unsigned int base)
{
  unsigned int n = 0 ;
  for (unsigned int i = 0 ; i < lspawn_workers_max && n < max ; i++)
    if (workers[i].pid && workers[i].fd >= 0)
    {
      tok[n] = base + i ;
      x[n].fd = workers[i].fd ;
      x[n++].events = IOPAUSE_READ ;
    }
  return n ;
}

int lspawn_worker_deadline (tain *when)
{
  int any = 0 ;
  for (unsigned int i = 0 ; i < lspawn_workers_max ; i++)
  {
    worker const *w = workers + i ;
    if (!w->pid || w->fd < 0 || w->n) continue ;
    if (!any || tain_less(&w->idle, when)) *when = w->idle ;
    any = 1 ;
  }
  return any ;
}

void lspawn_worker_tick (void)
{
  for (unsigned int i = 0 ; i < lspawn_workers_max ; i++)
  {
    worker *w = workers + i ;
    if (!w->pid || w->fd < 0 || w->n) continue ;
    if (w->given >= lspawn_worker_uses || !tain_future(&w->idle)) let_go(w) ;
  }
}
