#include <stdint.h>
#include <skalibs/genalloc.h>
#include <skalibs/strerr.h>
#include "send.h"

/* Each recipient waiting for a try is in exactly one place: a lane's
   ready queue (due now), the retry heap (due later), or a job. */

struct entry { uint32_t when ; uint32_t i ; struct msg *m ; } ;

struct fifo { genalloc q ; size_t head ; } ;  /* of struct entry */
static struct fifo ready[2][2] ;
static genalloc heap = GENALLOC_ZERO ;         /* of struct entry, min on when */
unsigned int inflight[2][2] ;

enum lane rcpt_lane (struct msg const *m, struct rcpt const *r, uint32_t now)
{
  return r->attempts && now - m->birth >= conf.slowafter ? LANE_SLOW : LANE_FAST ;
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
}

static int fifo_pop (struct fifo *f, struct entry *e)
{
  if (f->head >= genalloc_len(struct entry, &f->q)) return 0 ;
  *e = genalloc_s(struct entry, &f->q)[f->head++] ;
  return 1 ;
}

static void heap_push (struct entry const *e)
{
  struct entry *s ;
  size_t i ;
  if (!genalloc_append(struct entry, &heap, e)) strerr_diefu1sys(111, "allocate") ;
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

void sched_rcpt (struct msg *m, unsigned int i, uint32_t now)
{
  struct rcpt *r = m->rcpts + i ;
  struct entry e = { r->nexttry, i, m } ;
  if (r->nexttry <= now)
    fifo_push(&ready[r->channel == CH_LOCAL ? CHAN_LOCAL : CHAN_REMOTE][rcpt_lane(m, r, now)], &e) ;
  else heap_push(&e) ;
}

/* qmail's schedule: the k-th retry comes (retrybase k)^2 seconds after
   the message arrived, never sooner than retrybase after the last try;
   in the slow lane never sooner than slowretry after it. */
void sched_retry (struct msg *m, unsigned int i, uint32_t now)
{
  struct rcpt *r = m->rcpts + i ;
  uint64_t k = (uint64_t)conf.retrybase * r->attempts ;
  uint64_t t = m->birth + k * k ;
  if (t < (uint64_t)r->lasttry + conf.retrybase) t = (uint64_t)r->lasttry + conf.retrybase ;
  if (rcpt_lane(m, r, now) == LANE_SLOW && t < (uint64_t)r->lasttry + conf.slowretry)
    t = (uint64_t)r->lasttry + conf.slowretry ;
  r->nexttry = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t ;
  sched_rcpt(m, i, now) ;
}

void sched_due (uint32_t now)
{
  while (genalloc_len(struct entry, &heap) && genalloc_s(struct entry, &heap)[0].when <= now)
  {
    struct entry e ;
    heap_pop(&e) ;
    sched_rcpt(e.m, e.i, now) ;
  }
}

void sched_alarm (void)
{
  struct entry *s = genalloc_s(struct entry, &heap) ;
  for (size_t i = 0 ; i < genalloc_len(struct entry, &heap) ; i++)
  {
    s[i].when = 0 ;
    s[i].m->rcpts[s[i].i].nexttry = 0 ;
  }
}

uint32_t sched_next (void)
{
  return genalloc_len(struct entry, &heap) ? genalloc_s(struct entry, &heap)[0].when : 0 ;
}

unsigned long sched_waiting (void)
{
  unsigned long n = genalloc_len(struct entry, &heap) ;
  for (unsigned int c = 0 ; c < 2 ; c++)
    for (unsigned int l = 0 ; l < 2 ; l++)
      n += genalloc_len(struct entry, &ready[c][l].q) - ready[c][l].head ;
  return n ;
}

/* Remote recipients wait in their queue until remote delivery exists. */
void sched_dispatch (uint32_t now, int stopping)
{
  (void)now ;
  if (stopping) return ;
  for (unsigned int l = 0 ; l < 2 ; l++)
  {
    struct entry e ;
    while (inflight[CHAN_LOCAL][l] < conf.conc[CHAN_LOCAL][l] && fifo_pop(&ready[CHAN_LOCAL][l], &e))
      if (job_start(e.m, e.i, (enum lane)l)) inflight[CHAN_LOCAL][l]++ ;
  }
}
