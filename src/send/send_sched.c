#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <skalibs/genalloc.h>
#include <skalibs/strerr.h>
#include "send.h"

/* Each recipient waiting for a try has one valid entry: in a lane's
   ready queue (due now) or the retry heap (due later); or it is in a
   job. A remote job takes the message's other due recipients at the
   same domain along: their entries go stale (the recipient is busy, or
   rescheduled with a new seq since) and are dropped when they come up. */

struct entry { uint32_t when ; uint32_t i ; struct msg *m ; uint16_t seq ; } ;

static int entry_valid (struct entry const *e)
{
  struct rcpt const *r = e->m->rcpts + e->i ;
  return !e->m->gone && e->seq == r->seq && !r->busy && r->status == ST_TODO ;
}

/* entries moved or consumed without starting a job in one loop turn:
   a retry round of 10^6 recipients to a dead destination is spread
   over turns, so fresh mail's pipes and jobs are served in between */
#define SCHED_SLICE 10000
static int more = 0 ;   /* a turn stopped at the slice: the next comes at once */
/* requests waiting in record past which remote recipients wait: a round
   of deferrals to a dead destination (one update each) goes at record's
   pace, and a scan for fresh mail never queues behind more than this */
#define RECORD_BACKLOG 2000

struct fifo { genalloc q ; size_t head ; } ;  /* of struct entry */
static struct fifo ready[2][2] ;
static genalloc heap = GENALLOC_ZERO ;         /* of struct entry, min on when */
unsigned int send_inflight[2][2] ;

enum lane send_rcpt_lane (struct msg const *m, struct rcpt const *r, uint32_t now)
{
  return r->attempts && now - m->birth >= send_conf.slowafter ? LANE_SLOW : LANE_FAST ;
}

static void fifo_push (struct fifo *f, struct entry const *e)
{
  if (f->head && f->head * 2 >= genalloc_len(struct entry, &f->q))
  {
    /* compact: the consumed half is dropped, so memory follows the backlog */
    struct entry *s = genalloc_s(struct entry, &f->q) ;
    size_t n = genalloc_len(struct entry, &f->q) - f->head ;
    for (size_t i = 0 ; i < n ; i++) s[i] = s[f->head + i] ;
    genalloc_setlen(struct entry, &f->q, n) ;
    f->head = 0 ;
  }
  if (!genalloc_append(struct entry, &f->q, e)) strerr_diefu1sys(111, "allocate") ;
  e->m->refs++ ;
}

static int fifo_pop (struct fifo *f, struct entry *e)
{
  if (f->head >= genalloc_len(struct entry, &f->q)) return 0 ;
  *e = genalloc_s(struct entry, &f->q)[f->head++] ;
  e->m->refs-- ;
  return 1 ;
}

static void heap_push (struct entry const *e)
{
  struct entry *s ;
  size_t i ;
  if (!genalloc_append(struct entry, &heap, e)) strerr_diefu1sys(111, "allocate") ;
  e->m->refs++ ;
  s = genalloc_s(struct entry, &heap) ;
  i = genalloc_len(struct entry, &heap) - 1 ;
  while (i && s[(i - 1) / 2].when > s[i].when)
  {
    struct entry t = s[i] ; s[i] = s[(i - 1) / 2] ; s[(i - 1) / 2] = t ;
    i = (i - 1) / 2 ;
  }
}

static void heap_pop (struct entry *e)
{
  struct entry *s = genalloc_s(struct entry, &heap) ;
  size_t n = genalloc_len(struct entry, &heap) - 1, i = 0 ;
  *e = s[0] ;
  e->m->refs-- ;
  s[0] = s[n] ;
  genalloc_setlen(struct entry, &heap, n) ;
  for (;;)
  {
    size_t l = 2 * i + 1, r = l + 1, min = i ;
    if (l < n && s[l].when < s[min].when) min = l ;
    if (r < n && s[r].when < s[min].when) min = r ;
    if (min == i) break ;
    struct entry t = s[i] ; s[i] = s[min] ; s[min] = t ;
    i = min ;
  }
}

static void place (struct entry const *e, uint32_t now)
{
  struct rcpt const *r = e->m->rcpts + e->i ;
  if (e->when <= now)
    fifo_push(&ready[r->channel == CH_LOCAL ? CHAN_LOCAL : CHAN_REMOTE][send_rcpt_lane(e->m, r, now)], e) ;
  else heap_push(e) ;
}

void send_sched_rcpt (struct msg *m, unsigned int i, uint32_t now)
{
  struct rcpt *r = m->rcpts + i ;
  /* held or removed by the operator (send_ops.c): waits for nothing */
  if (m->held || m->doomed) { r->seq++ ; return ; }
  struct entry e = { r->nexttry, i, m, ++r->seq } ;
  place(&e, now) ;
}

/* qmail's schedule: the k-th retry comes (retrybase k)^2 seconds after
   the message arrived, never sooner than retrybase after the last try;
   in the slow lane never sooner than slowretry after it. */
void send_sched_retry (struct msg *m, unsigned int i, uint32_t now)
{
  struct rcpt *r = m->rcpts + i ;
  uint64_t k = (uint64_t)send_conf.retrybase * r->attempts ;
  uint64_t t = m->birth + k * k ;
  if (t < (uint64_t)r->lasttry + send_conf.retrybase) t = (uint64_t)r->lasttry + send_conf.retrybase ;
  if (send_rcpt_lane(m, r, now) == LANE_SLOW && t < (uint64_t)r->lasttry + send_conf.slowretry)
    t = (uint64_t)r->lasttry + send_conf.slowretry ;
  r->nexttry = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t ;
  send_sched_rcpt(m, i, now) ;
}

void send_sched_due (uint32_t now)
{
  unsigned int n = 0 ;
  more = 0 ;
  while (genalloc_len(struct entry, &heap) && genalloc_s(struct entry, &heap)[0].when <= now)
  {
    struct entry e ;
    if (n++ >= SCHED_SLICE) { more = 1 ; break ; }
    heap_pop(&e) ;
    if (entry_valid(&e)) place(&e, now) ;
    else send_msg_release(e.m) ;
  }
}

void send_sched_alarm (void)
{
  send_dest_alarm() ;
  struct entry *s = genalloc_s(struct entry, &heap) ;
  for (size_t i = 0 ; i < genalloc_len(struct entry, &heap) ; i++)
  {
    if (entry_valid(s + i)) s[i].m->rcpts[s[i].i].nexttry = 0 ;
    s[i].when = 0 ;
  }
}

uint32_t send_sched_next (void)
{
  if (more) return 1 ;
  return genalloc_len(struct entry, &heap) ? genalloc_s(struct entry, &heap)[0].when : 0 ;
}

/* valid entries only: stale ones (recipients a remote job took along)
   wait in the queues until popped. A scan, but only per status line. */
unsigned long send_sched_waiting (void)
{
  unsigned long n = 0 ;
  struct entry const *s = genalloc_s(struct entry, &heap) ;
  for (size_t i = 0 ; i < genalloc_len(struct entry, &heap) ; i++) n += entry_valid(s + i) ;
  for (unsigned int c = 0 ; c < 2 ; c++)
    for (unsigned int l = 0 ; l < 2 ; l++)
    {
      s = genalloc_s(struct entry, &ready[c][l].q) ;
      for (size_t i = ready[c][l].head ; i < genalloc_len(struct entry, &ready[c][l].q) ; i++) n += entry_valid(s + i) ;
    }
  return n ;
}

static int same_domain (char const *a, char const *b)
{
  char const *x = strrchr(a, '@'), *y = strrchr(b, '@') ;
  return x && y && !strcasecmp(x, y) ;
}

/* the recipient of e, and the message's other remote recipients due now
   at its domain, up to JOB_RCPT_MAX: one job, one SMTP transaction */
static void start_remote (struct entry const *e, enum lane lane, uint32_t now, int probe, uint64_t dest)
{
  struct msg *m = e->m ;
  char const *addr = RCPT_ADDR(m, m->rcpts + e->i) ;
  uint32_t idx[JOB_RCPT_MAX] ;
  unsigned int n = 0 ;
  idx[n++] = e->i ;
  for (uint32_t i = 0 ; i < m->nrcpts && n < JOB_RCPT_MAX ; i++)
  {
    struct rcpt const *r = m->rcpts + i ;
    if (i == e->i || r->channel == CH_LOCAL || r->status != ST_TODO || r->busy || r->nexttry > now) continue ;
    if (same_domain(addr, RCPT_ADDR(m, r))) idx[n++] = i ;
  }
  send_job_start(m, idx, n, CHAN_REMOTE, lane, probe, dest) ;
}

void send_sched_dispatch (uint32_t now, int stopping)
{
  unsigned int idle = 0 ;
  if (stopping) return ;
  for (unsigned int c = 0 ; c < 2 ; c++)
    for (unsigned int l = 0 ; l < 2 ; l++)
    {
      struct entry e ;
      /* its spawner died and send-start has not handed us the new one yet */
      if (send_children[c == CHAN_LOCAL ? C_LSPAWN : C_RSPAWN].in < 0) continue ;
      while (send_inflight[c][l] < send_conf.conc[c][l])
      {
        char const *addr ;
        enum dest_verdict v ;
        uint64_t ref ;
        if (idle >= SCHED_SLICE) { more = 1 ; return ; }
        if (c == CHAN_REMOTE && send_children[C_RECORD].pending > RECORD_BACKLOG) return ;
        if (!fifo_pop(&ready[c][l], &e)) break ;
        idle++ ;
        if (!entry_valid(&e)) { send_msg_release(e.m) ; continue ; }
        if (c == CHAN_LOCAL)
        {
          send_job_start(e.m, &e.i, 1, CHAN_LOCAL, (enum lane)l, 0, 0) ;
          send_inflight[c][l]++ ;
          idle-- ;
          continue ;
        }
        addr = RCPT_ADDR(e.m, e.m->rcpts + e.i) ;
        v = send_dest_admit(addr, now, &ref) ;
        if (v == DV_HOLD || v == DV_DEFER) { send_dest_wait(addr, e.m, e.i, v == DV_HOLD, now) ; continue ; }
        start_remote(&e, (enum lane)l, now, v == DV_PROBE, ref) ;
        send_inflight[c][l]++ ;
        idle-- ;
      }
    }
}
