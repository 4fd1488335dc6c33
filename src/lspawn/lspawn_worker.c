/* Delivery workers: one local -w per account (uid and gid) while it has
   deliveries, in a wpool keyed by the account. A recipient is given to
   its account's worker over the socket (ldeliver.h); answers come back
   in the order given, so each worker has a ring of the recipients it
   holds, as many as its busy count. The pool lets a worker go (closes
   its socket: it ends at end of file) when idle for lspawn_worker_idle
   seconds or once it has answered lspawn_worker_uses deliveries; one
   that dies fails what it was given, temporarily. */

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
#include "wpool.h"
#include "lspawn.h"

static wpool pool ;
static wpool_worker table[LSPAWN_WORKERS_MAX] ;
/* each worker's ring: the recipients given and not answered, in order,
   from head[i], pool.w[i].busy of them */
static unsigned int head[LSPAWN_WORKERS_MAX] ;
static unsigned short ring[LSPAWN_WORKERS_MAX][LSPAWN_WORKER_QUEUE] ;

/* the key of an account: uid_t and gid_t are 32 bits on Linux */
static uint64_t key (uid_t uid, gid_t gid)
{
  return (uint64_t)(uint32_t)uid << 32 | (uint32_t)gid ;
}

void lspawn_worker_init (void)
{
  wpool_init(&pool, table, lspawn_workers_max, lspawn_worker_uses) ;
}

/* the oldest recipient worker i holds, now answered or failed */
static unsigned int next (unsigned int i)
{
  unsigned int r = ring[i][head[i]] ;
  head[i] = (head[i] + 1) % LSPAWN_WORKER_QUEUE ;
  wpool_done(&pool, i) ;
  lspawn_rcpts[r].worker = -1 ;
  return r ;
}

static void fail_given (unsigned int i, char const *why, char const *detail)
{
  while (pool.w[i].busy) lspawn_final(next(i), 'Z', why, detail, 0) ;
}

static void out_of_protocol (unsigned int i)
{
  strerr_warnw1x("a delivery worker answered out of protocol: letting it go") ;
  wpool_retire(&pool, i) ;
  fail_given(i, "4.3.0 delivery worker answered out of protocol", 0) ;
}

static void answered (unsigned int i, char const *s, size_t len)
{
  unsigned int code ;
  size_t l = strnlen(s, len) ;
  char const *text = s + l + 1 ;
  char status ;
  /* "code\0text\0" */
  if (!l || l + 1 >= len || uint_scan(s, &code) != l || strnlen(text, len - l - 1) != len - l - 2)
  {
    out_of_protocol(i) ;
    return ;
  }
  status = !code || code == 99 ? 'K' : code == 100 ? 'D' : 'Z' ;
  if (!*text)
    text = status == 'K' ? "delivered" : status == 'D' ? "5.0.0 local failed permanently, without a reason"
      : "4.3.0 local failed temporarily, without a reason" ;
  lspawn_final(next(i), status, text, 0, 0) ;
}

/* reads every answer there is; at end of file or on an error the
   worker is ending: what it was given and did not answer fails when
   it is reaped, with the reason */
void lspawn_worker_read (unsigned int i)
{
  while (pool.w[i].fd >= 0)
  {
    char buf[LDELIVER_ANSWER_MAX + 1] ;
    ssize_t r = recv(pool.w[i].fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ;
    if (r <= 0)
    {
      if (r < 0) strerr_warnwu1sys("read a delivery worker's answer") ;
      wpool_retire(&pool, i) ;
      return ;
    }
    if (!pool.w[i].busy || (size_t)r > LDELIVER_ANSWER_MAX)
    {
      out_of_protocol(i) ;
      return ;
    }
    answered(i, buf, (size_t)r) ;
  }
}

int lspawn_worker_reaped (pid_t pid, int wstat)
{
  int i = wpool_find(&pool, pid) ;
  char fmt[INT_FMT] ;
  if (i < 0) return 0 ;
  /* answers it wrote before it died still count */
  lspawn_worker_read((unsigned int)i) ;
  wpool_retire(&pool, (unsigned int)i) ;
  fmt[int_fmt(fmt, WIFSIGNALED(wstat) ? WTERMSIG(wstat) : WEXITSTATUS(wstat))] = 0 ;
  if (!WIFEXITED(wstat) || WEXITSTATUS(wstat))
  {
    char u[UID_FMT] ;
    u[uid_fmt(u, (uid_t)(pool.w[i].key >> 32))] = 0 ;
    strerr_warnw4x("delivery worker for uid ", u, WIFSIGNALED(wstat) ? " killed by signal " : " exited ", fmt) ;
  }
  fail_given((unsigned int)i, WIFSIGNALED(wstat) ? "4.3.0 delivery worker killed by signal " : "4.3.0 delivery worker exited ", fmt) ;
  wpool_free(&pool, (unsigned int)i) ;
  return 1 ;
}

/* the account's worker if it can take one more, or a new one if there
   is room; -1 if none. An account has one worker with uses left. */
static int find (lspawn_ids const *id)
{
  uint64_t k = key(id->uid, id->gid) ;
  int i = wpool_pick(&pool, k) ;
  if (i >= 0) return pool.w[i].busy < LSPAWN_WORKER_QUEUE ? i : -1 ;
  i = lspawn_spawn_worker(&pool, k, id) ;
  if (i >= 0) return i ;
  if (errno != EBUSY) strerr_warnwu1sys("start a delivery worker") ;
  else
  {
    /* full: let the worker idle the longest go, so the next delivery
       finds room */
    int j = wpool_oldest(&pool) ;
    if (j >= 0) wpool_retire(&pool, (unsigned int)j) ;
  }
  return -1 ;
}

int lspawn_worker_give (unsigned int r, lspawn_delivery const *d)
{
  char path[QUEUE_PATH_MAX] ;
  char const *f[LDELIVER_FIELDS] = { d->user, d->home, d->localname, d->ext, d->domain, d->sender, d->recipient } ;
  lspawn_ids const id = { .uid = d->uid, .gid = d->gid } ;
  int i, body, x ;
  if (!lspawn_workers_max) return 0 ;
  i = find(&id) ;
  if (i < 0) return 0 ;
  queue_path(path, QUEUE_BODY, d->msgid) ;
  body = open(path, O_RDONLY | O_CLOEXEC) ;
  if (body < 0) { lspawn_final(r, 'Z', "4.3.0 unable to open the message: ", strerror(errno), 0) ; return 1 ; }
  x = ldeliver_put(pool.w[i].fd, body, f) ;
  fd_close(body) ;
  if (x < 0)
  {
    /* dead or broken: what it holds fails when it is reaped */
    strerr_warnwu1sys("give a delivery to a worker") ;
    wpool_retire(&pool, (unsigned int)i) ;
  }
  if (x <= 0) return 0 ;
  ring[i][(head[i] + pool.w[i].busy) % LSPAWN_WORKER_QUEUE] = (unsigned short)r ;
  wpool_give(&pool, (unsigned int)i) ;
  lspawn_rcpts[r].worker = i ;
  return 1 ;
}

unsigned int lspawn_worker_fds (iopause_fd *x, unsigned int *tok, unsigned int max, unsigned int base)
{
  return wpool_fds(&pool, x, tok, base, max) ;
}

/* the next idle worker's expiry */
int lspawn_worker_deadline (tain *when)
{
  int i = wpool_oldest(&pool) ;
  if (i < 0) return 0 ;
  tain_addsec(when, &pool.w[i].idle, (int)lspawn_worker_idle) ;
  return 1 ;
}

void lspawn_worker_tick (void)
{
  tain limit ;
  tain_addsec(&limit, &STAMP, -(int)lspawn_worker_idle) ;
  wpool_expire(&pool, &limit) ;
}
