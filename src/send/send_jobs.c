#include <stdint.h>
#include <string.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "frame.h"
#include "send.h"

/* A job is one delivery in lspawn; its id is its slot here. */
struct job
{
  struct msg *m ;
  uint32_t i ;
  unsigned char lane ;
} ;

static genalloc jobs = GENALLOC_ZERO ;   /* struct job; m == 0: free slot */
static genalloc freeslots = GENALLOC_ZERO ;  /* uint32_t */
static unsigned long running = 0 ;

static uint32_t job_new (void)
{
  uint32_t j ;
  size_t n = genalloc_len(uint32_t, &freeslots) ;
  if (n)
  {
    j = genalloc_s(uint32_t, &freeslots)[n - 1] ;
    genalloc_setlen(uint32_t, &freeslots, n - 1) ;
    return j ;
  }
  {
    struct job z = { 0, 0, 0 } ;
    if (!genalloc_append(struct job, &jobs, &z)) strerr_diefu1sys(111, "allocate") ;
  }
  return (uint32_t)genalloc_len(struct job, &jobs) - 1 ;
}
static stralloc out = STRALLOC_ZERO ;

unsigned long jobs_running (void)
{
  return running ;
}

static void put_field (char letter, char const *s)
{
  if (!stralloc_catb(&out, &letter, 1) || !stralloc_cats(&out, s) || !stralloc_0(&out))
    strerr_diefu1sys(111, "allocate") ;
}

int job_start (struct msg *m, unsigned int i, enum lane lane)
{
  struct rcpt *r = m->rcpts + i ;
  uint32_t j ;
  char fmt[UINT32_FMT] ;
  j = job_new() ;
  genalloc_s(struct job, &jobs)[j] = (struct job){ m, i, (unsigned char)lane } ;
  fmt[uint32_fmt(fmt, j)] = 0 ;
  out.len = 0 ;
  put_field('J', fmt) ;
  put_field('M', m->id) ;
  put_field('F', MSG_SENDER(m)) ;
  put_field('T', RCPT_ADDR(m, r)) ;
  put_field('L', RCPT_LOCAL(m, r)) ;
  if (!stralloc_0(&out)) strerr_diefu1sys(111, "allocate") ;
  child_put(&children[C_LSPAWN], out.s, out.len) ;
  r->busy = 1 ;
  m->busy++ ;
  running++ ;
  log_start("starting delivery ") ; log_add(fmt) ;
  log_add(": msg ") ; log_add(m->id) ;
  log_add(lane == LANE_SLOW ? " to local (slow) " : " to local ") ;
  log_addb(RCPT_ADDR(m, r), strlen(RCPT_ADDR(m, r))) ;
  log_end() ;
  return 1 ;
}

/* A result: "J<jobid>" then one "K|Z|D<text>" field (local jobs carry
   one recipient). */
void job_result (char const *s, size_t len, uint32_t now)
{
  size_t pos = 0 ;
  char const *f = frame_field(s, len, &pos) ;
  char const *res ;
  uint32_t j ;
  struct job job ;
  struct msg *m ;
  struct rcpt *r ;
  size_t tlen ;
  if (!f || f[0] != 'J' || uint32_scan(f + 1, &j) != strlen(f + 1) || j >= genalloc_len(struct job, &jobs))
    strerr_dief1x(111, "lspawn sent a result for no job") ;
  job = genalloc_s(struct job, &jobs)[j] ;
  if (!job.m) strerr_dief1x(111, "lspawn sent a result for no job") ;
  res = frame_field(s, len, &pos) ;
  if (!res || (res[0] != 'K' && res[0] != 'Z' && res[0] != 'D'))
    strerr_dief1x(111, "lspawn sent a malformed result") ;
  genalloc_s(struct job, &jobs)[j].m = 0 ;
  if (!genalloc_append(uint32_t, &freeslots, &j)) strerr_diefu1sys(111, "allocate") ;
  running-- ;
  m = job.m ;
  r = m->rcpts + job.i ;
  r->busy = 0 ;
  m->busy-- ;
  inflight[CHAN_LOCAL][job.lane]-- ;
  r->attempts += r->attempts < STATE_ATTEMPTS_MAX ;
  r->lasttry = now ;
  tlen = strlen(res + 1) ;
  log_start("delivery ") ; log_addu(j) ;
  if (res[0] == 'K')
  {
    log_add(": success: ") ;
    r->status = ST_DONE ;
    m->todo-- ;
  }
  else if (res[0] == 'D' || now - m->birth >= conf.lifetime)
  {
    log_add(res[0] == 'D' ? ": failure: " : ": failure: 4.4.7 queue lifetime exceeded: ") ;
    r->status = ST_FAILED ;
    m->todo-- ;
    m->failed++ ;
  }
  else log_add(": deferral: ") ;
  log_addb(res + 1, tlen) ;
  log_end() ;
  msg_update(m, job.i, res + 1, tlen) ;
  if (r->status == ST_TODO) sched_retry(m, job.i, now) ;
  else msg_check(m, now) ;
}
