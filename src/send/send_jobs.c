#include <stdint.h>
#include <string.h>
#include <skalibs/alloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "frame.h"
#include "send.h"

/* A job is one delivery in lspawn or rspawn: one local recipient, or a
   message's remote recipients at one domain. Its id is its slot here. */
struct job
{
  struct msg *m ;
  uint32_t *idx ;       /* the recipients, in the job's order */
  uint32_t n ;
  unsigned char lane ;
  unsigned char chan ;
  unsigned char probe ; /* the one job let through to a dead or new destination */
  uint64_t dest ;       /* send_dest_admit's ref */
} ;

static genalloc jobs = GENALLOC_ZERO ;   /* struct job; m == 0: free slot */
static genalloc freeslots = GENALLOC_ZERO ;  /* uint32_t */
static unsigned long running = 0 ;
static stralloc out = STRALLOC_ZERO ;

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
    struct job z = { 0, 0, 0, 0, 0, 0, 0 } ;
    if (!genalloc_append(struct job, &jobs, &z)) strerr_diefu1sys(111, "allocate") ;
  }
  return (uint32_t)genalloc_len(struct job, &jobs) - 1 ;
}

unsigned long send_jobs_running (void)
{
  return running ;
}

static void put_field (char letter, char const *s)
{
  if (!stralloc_catb(&out, &letter, 1) || !stralloc_cats(&out, s) || !stralloc_0(&out))
    strerr_diefu1sys(111, "allocate") ;
}

/* "J<job> M<msg> F<sender>" then per recipient "T<addr>", and for
   lspawn "L<localname>" (lspawn(8), rspawn(8)) */
int send_job_start (struct msg *m, uint32_t const *idx, unsigned int n, enum chan chan, enum lane lane, int probe, uint64_t dest)
{
  uint32_t j = job_new() ;
  struct job *job ;
  char fmt[UINT32_FMT] ;
  job = genalloc_s(struct job, &jobs) + j ;
  job->idx = alloc(n * sizeof *idx) ;
  if (!job->idx) strerr_diefu1sys(111, "allocate") ;
  memcpy(job->idx, idx, n * sizeof *idx) ;
  job->m = m ; job->n = n ; job->lane = lane ; job->chan = chan ; job->probe = !!probe ; job->dest = dest ;
  fmt[uint32_fmt(fmt, j)] = 0 ;
  out.len = 0 ;
  put_field('J', fmt) ;
  put_field('M', m->id) ;
  put_field('F', MSG_SENDER(m)) ;
  for (unsigned int k = 0 ; k < n ; k++)
  {
    struct rcpt *r = m->rcpts + idx[k] ;
    put_field('T', RCPT_ADDR(m, r)) ;
    if (chan == CHAN_LOCAL) put_field('L', RCPT_LOCAL(m, r)) ;
    r->busy = 1 ;
  }
  if (!stralloc_0(&out)) strerr_diefu1sys(111, "allocate") ;
  send_child_put(&send_children[chan == CHAN_LOCAL ? C_LSPAWN : C_RSPAWN], out.s, out.len) ;
  m->busy += n ;
  running++ ;
  send_log_start("starting delivery ") ; send_log_add(fmt) ;
  send_log_add(": msg ") ; send_log_add(m->id) ;
  send_log_add(chan == CHAN_LOCAL ? " to local " : " to remote ") ;
  if (lane == LANE_SLOW) send_log_add("(slow) ") ;
  for (unsigned int k = 0 ; k < n ; k++)
  {
    struct rcpt *r = m->rcpts + idx[k] ;
    if (k) send_log_add(" ") ;
    send_log_addb(RCPT_ADDR(m, r), strlen(RCPT_ADDR(m, r))) ;
  }
  send_log_end() ;
  return 1 ;
}

/* one recipient's result: the letter and text of one field */
static void rcpt_result (uint32_t j, struct msg *m, uint32_t i, char const *res, uint32_t now)
{
  struct rcpt *r = m->rcpts + i ;
  size_t tlen = strlen(res + 1) ;
  r->busy = 0 ;
  m->busy-- ;
  r->attempts += r->attempts < STATE_ATTEMPTS_MAX ;
  r->lasttry = now ;
  send_log_start("delivery ") ; send_log_addu(j) ;
  if (res[0] == 'K')
  {
    send_log_add(": success: ") ;
    r->status = ST_DONE ;
    m->todo-- ;
  }
  else if (res[0] == 'D' || now - m->birth >= send_conf.lifetime)
  {
    send_log_add(res[0] == 'D' ? ": failure: " : ": failure: 4.4.7 queue lifetime exceeded: ") ;
    r->status = ST_FAILED ;
    m->todo-- ;
    m->failed++ ;
  }
  else send_log_add(": deferral: ") ;
  send_log_addb(res + 1, tlen) ;
  send_log_end() ;
  send_msg_update(m, i, res + 1, tlen) ;
  if (r->status == ST_TODO) send_sched_retry(m, i, now) ;
}

/* A result: "J<jobid>" then one "K|Z|D<text>" field per recipient of
   the job, in its order. */
void send_job_result (char const *s, size_t len, uint32_t now)
{
  size_t pos = 0 ;
  char const *f = frame_field(s, len, &pos) ;
  char const *res[JOB_RCPT_MAX] ;
  uint32_t j ;
  struct job job ;
  if (!f || f[0] != 'J' || uint32_scan(f + 1, &j) != strlen(f + 1) || j >= genalloc_len(struct job, &jobs))
    strerr_dief1x(101, "a spawner sent a result for no job") ;
  job = genalloc_s(struct job, &jobs)[j] ;
  if (!job.m) strerr_dief1x(101, "a spawner sent a result for no job") ;
  for (unsigned int k = 0 ; k < job.n ; k++)
  {
    res[k] = frame_field(s, len, &pos) ;
    if (!res[k] || (res[k][0] != 'K' && res[k][0] != 'Z' && res[k][0] != 'D'))
      strerr_dief1x(101, "a spawner sent a malformed result") ;
  }
  genalloc_s(struct job, &jobs)[j].m = 0 ;
  if (!genalloc_append(uint32_t, &freeslots, &j)) strerr_diefu1sys(111, "allocate") ;
  running-- ;
  send_inflight[job.chan][job.lane]-- ;
  for (unsigned int k = 0 ; k < job.n ; k++) rcpt_result(j, job.m, job.idx[k], res[k], now) ;
  if (job.chan == CHAN_REMOTE)
  {
    /* the destination failed, not its recipients, only if every one of
       them failed at the connection level */
    int sitefail = 1 ;
    char const *addr = RCPT_ADDR(job.m, job.m->rcpts + job.idx[0]) ;
    for (unsigned int k = 0 ; k < job.n && sitefail ; k++)
      sitefail = res[k][0] == 'Z' && send_dest_sitefail(res[k] + 1) ;
    send_dest_result(addr, job.dest, job.probe, sitefail, res[0] + 1, now) ;
    if (sitefail)
      for (unsigned int k = 0 ; k < job.n ; k++)
        if (job.m->rcpts[job.idx[k]].status == ST_TODO) send_dest_park(addr, job.m, job.idx[k], 0, now) ;
  }
  alloc_free(job.idx) ;
  send_msg_check(job.m, now) ;
}

/* Its spawner died: every job of chan it had in hand is dropped, its
   recipients due again at once (their state on disk is as before the
   job), a probe's destination free to probe again. Returns how many. */
unsigned long send_jobs_requeue (enum chan chan, uint32_t now)
{
  unsigned long n = 0 ;
  for (uint32_t j = 0 ; j < genalloc_len(struct job, &jobs) ; j++)
  {
    struct job job = genalloc_s(struct job, &jobs)[j] ;
    if (!job.m || job.chan != chan) continue ;
    genalloc_s(struct job, &jobs)[j].m = 0 ;
    if (!genalloc_append(uint32_t, &freeslots, &j)) strerr_diefu1sys(111, "allocate") ;
    running-- ;
    send_inflight[job.chan][job.lane]-- ;
    if (job.probe) send_dest_unprobe(job.dest) ;
    for (unsigned int k = 0 ; k < job.n ; k++)
    {
      struct rcpt *r = job.m->rcpts + job.idx[k] ;
      r->busy = 0 ;
      job.m->busy-- ;
      if (r->nexttry > now) r->nexttry = now ;
      send_sched_rcpt(job.m, job.idx[k], now) ;
    }
    alloc_free(job.idx) ;
    n++ ;
  }
  return n ;
}
