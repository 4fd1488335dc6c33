/* The operator's requests (queue-ctl(8)): remove, hold, release or retry
   now one message. queue-ctl writes them to the queue/ops FIFO; send
   applies them to its own state and through record's usual updates, so
   nothing changes under a running delivery. A hold lasts across restarts
   by queue-ctl's marker queue/hold/N/ID, whose names are read here at
   start-up; send itself writes nothing. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "qscan.h"
#include "send.h"

/* a request: the letter, the id, a NUL, the final empty field */
#define OPS_REC_MAX (1 + QUEUE_ID_MAX + 2)
/* ids waiting for their message to be loaded: the markers found at
   start-up, and requests about a message still in queue/todo. Past
   this, further ones are refused with a warning. */
#define OPS_PENDING_MAX 1000000

struct pend { char id[QUEUE_ID_MAX + 1] ; char op ; } ;
static stralloc pending = STRALLOC_ZERO ;  /* struct pend, sorted by id */
static int fd = -1 ;
static char rec[OPS_REC_MAX] ;
static size_t reclen = 0 ;
static int skipping = 0 ;  /* in a record over OPS_REC_MAX */
static int prevnul = 0 ;

#define NPEND (pending.len / sizeof (struct pend))
#define PEND(k) ((struct pend *)pending.s + (k))

/* the first entry whose id is not below id */
static size_t lower (char const *id)
{
  size_t lo = 0, hi = NPEND ;
  while (lo < hi)
  {
    size_t mid = lo + (hi - lo) / 2 ;
    if (strcmp(PEND(mid)->id, id) < 0) lo = mid + 1 ; else hi = mid ;
  }
  return lo ;
}

static int found (size_t k, char const *id)
{
  return k < NPEND && !strcmp(PEND(k)->id, id) ;
}

static int pend_set (char const *id, char op)
{
  size_t k = lower(id) ;
  struct pend p ;
  if (found(k, id)) { PEND(k)->op = op ; return 1 ; }
  if (NPEND >= OPS_PENDING_MAX) return 0 ;
  memset(&p, 0, sizeof p) ;
  memcpy(p.id, id, strlen(id)) ;
  p.op = op ;
  if (!stralloc_insertb(&pending, k * sizeof p, (char const *)&p, sizeof p)) strerr_diefu1sys(111, "allocate") ;
  return 1 ;
}

static void pend_del (size_t k)
{
  memmove(PEND(k), PEND(k + 1), (NPEND - k - 1) * sizeof (struct pend)) ;
  pending.len -= sizeof (struct pend) ;
}

static int cmp (void const *a, void const *b)
{
  return strcmp(((struct pend const *)a)->id, ((struct pend const *)b)->id) ;
}

static void say (char const *verb, char const *id, char const *text)
{
  send_log_start("operator: ") ; send_log_add(verb) ; send_log_add(" msg ") ; send_log_add(id) ;
  if (text) { send_log_add(": ") ; send_log_add(text) ; }
  send_log_end() ;
}

/* The held messages' markers, then the FIFO; both may be missing in a
   home made before queue-ctl existed (mkhome.sh makes them). */
int send_ops_open (void)
{
  stralloc names = STRALLOC_ZERO ;
  for (unsigned int sub = 0 ; sub < auto_split ; sub++)
  {
    names.len = 0 ;
    if (qscan_names(&names, QUEUE_HOLD, sub, OPS_PENDING_MAX - NPEND) < 0)
    {
      if (errno != ENOENT) strerr_warnwu2sys("read the held messages in ", QUEUE_HOLD) ;
      continue ;
    }
    for (size_t i = 0 ; i < names.len ; i += strlen(names.s + i) + 1)
    {
      struct pend p ;
      memset(&p, 0, sizeof p) ;
      memcpy(p.id, names.s + i, strlen(names.s + i)) ;
      p.op = 'h' ;
      if (!stralloc_catb(&pending, (char const *)&p, sizeof p)) strerr_diefu1sys(111, "allocate") ;
    }
  }
  stralloc_free(&names) ;
  if (NPEND >= OPS_PENDING_MAX) strerr_warnw1x("over 1000000 held messages: the rest are not held") ;
  qsort(pending.s, NPEND, sizeof (struct pend), &cmp) ;
  fd = open(QUEUE_OPS, O_RDWR | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0 && errno != ENOENT) strerr_warnwu2sys("open ", QUEUE_OPS) ;
  return fd ;
}

/* a message just loaded: a request that waited for it applies now */
void send_ops_loaded (struct msg *m)
{
  size_t k ;
  if (!pending.len || !found(k = lower(m->id), m->id)) return ;
  if (PEND(k)->op == 'h') { m->held = 1 ; say("hold", m->id, 0) ; }
  else if (PEND(k)->op == 'd') { m->doomed = 1 ; say("remove", m->id, 0) ; }
  pend_del(k) ;
}

/* a removed message's recipients not in a job are done, without a
   bounce: record marks them B, then the message goes as any finished
   one (send_msg_check) */
void send_ops_doom (struct msg *m)
{
  static char const text[] = "removed by the operator" ;
  for (unsigned int i = 0 ; i < m->nrcpts ; i++)
  {
    struct rcpt *r = m->rcpts + i ;
    if (r->busy || (r->status != ST_TODO && r->status != ST_FAILED)) continue ;
    if (r->status == ST_TODO) m->todo-- ; else m->failed-- ;
    r->status = ST_BOUNCED ;
    send_msg_update(m, i, text, sizeof text - 1) ;
  }
}

static void hold (struct msg *m)
{
  if (m->held) { say("hold", m->id, "already held") ; return ; }
  m->held = 1 ;
  /* every waiting entry goes stale; a job running finishes */
  for (unsigned int i = 0 ; i < m->nrcpts ; i++) m->rcpts[i].seq++ ;
  say("hold", m->id, 0) ;
}

static void release (struct msg *m, uint32_t now)
{
  if (!m->held) { say("release", m->id, "not held") ; return ; }
  m->held = 0 ;
  for (unsigned int i = 0 ; i < m->nrcpts ; i++)
  {
    struct rcpt *r = m->rcpts + i ;
    if (r->busy || r->status != ST_TODO) continue ;
    if (!r->attempts) { r->nexttry = now ; send_sched_rcpt(m, i, now) ; }
    else send_sched_retry(m, i, now) ;
  }
  say("release", m->id, 0) ;
}

static void retry (struct msg *m, uint32_t now)
{
  unsigned long n = 0 ;
  if (m->held) { say("retry", m->id, "refused: held, release it first") ; return ; }
  if (m->doomed) { say("retry", m->id, "refused: being removed") ; return ; }
  for (unsigned int i = 0 ; i < m->nrcpts ; i++)
  {
    struct rcpt *r = m->rcpts + i ;
    if (r->busy || r->status != ST_TODO) continue ;
    r->nexttry = now ;
    send_sched_rcpt(m, i, now) ;
    /* a dead destination takes a probe now rather than a deferral */
    if (r->channel != CH_LOCAL) send_dest_retry(RCPT_ADDR(m, r), now) ;
    n++ ;
  }
  send_log_start("operator: retry msg ") ; send_log_add(m->id) ;
  send_log_add(": ") ; send_log_addu(n) ; send_log_add(" recipients") ; send_log_end() ;
}

static void doom (struct msg *m, uint32_t now)
{
  if (m->doomed) { say("remove", m->id, "already being removed") ; return ; }
  if (m->phase != PH_ACTIVE || m->bouncing) { say("remove", m->id, "refused: its bounce or removal is under way") ; return ; }
  m->doomed = 1 ;
  say("remove", m->id, 0) ;
  send_msg_check(m, now) ;
}

/* a message send does not hold: still in queue/todo (or unknown) */
static void unloaded (char op, char const *id)
{
  size_t k = lower(id) ;
  switch (op)
  {
    case 'h' : case 'd' :
      if (!pend_set(id, op)) { say(op == 'h' ? "hold" : "remove", id, "refused: too many requests waiting") ; return ; }
      say(op == 'h' ? "hold" : "remove", id, "not loaded yet: applies when it is") ;
      break ;
    case 'H' :
      if (!found(k, id)) { say("release", id, "not held") ; return ; }
      pend_del(k) ;
      say("release", id, 0) ;
      break ;
    default : say("retry", id, "refused: no such message loaded") ;
  }
}

static void apply (uint32_t now)
{
  char op = rec[0] ;
  char const *id = rec + 1 ;
  struct msg *m ;
  if (reclen < 3 || rec[reclen - 1] || rec[reclen - 2] || strlen(id) != reclen - 3
   || !strchr("dhHr", op) || !op || !queue_id_valid(id))
  {
    strerr_warnw1x("ignoring a malformed request in " QUEUE_OPS) ;
    return ;
  }
  m = send_index_get(id) ;
  if (!m || m->gone) { unloaded(op, id) ; return ; }
  switch (op)
  {
    case 'd' : doom(m, now) ; break ;
    case 'h' : hold(m) ; break ;
    case 'H' : release(m, now) ; break ;
    default : retry(m, now) ; break ;
  }
}

/* Records ("<letter><id>" NUL NUL) from the FIFO: queue-ctl writes whole
   ones of at most PIPE_BUF bytes, which never interleave. */
void send_ops_read (uint32_t now)
{
  char buf[4096] ;
  /* a FIFO's worth (64 KiB) a turn: a flood of requests cannot keep
     send from its other work */
  for (unsigned int turn = 0 ; turn < 16 ; turn++)
  {
    ssize_t r = read(fd, buf, sizeof buf) ;
    if (r <= 0)
    {
      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) strerr_warnwu2sys("read ", QUEUE_OPS) ;
      return ;
    }
    for (ssize_t i = 0 ; i < r ; i++)
    {
      int end = !buf[i] && prevnul ;
      prevnul = !buf[i] ;
      if (reclen < OPS_REC_MAX) rec[reclen++] = buf[i] ; else skipping = 1 ;
      if (!end) continue ;
      if (skipping) strerr_warnw1x("ignoring an overlong request in " QUEUE_OPS) ;
      else apply(now) ;
      reclen = 0 ;
      skipping = prevnul = 0 ;
    }
  }
}
