/* Idle remotes: each keeps its connection open for the next job for its
   domain, until control/remoteidle seconds pass without one, it is
   control/remotereusetime seconds old, or send's input ends. */

#include <skalibs/tai.h>
#include "rspawn.h"

/* when idle remote i is let go */
static void expiry (unsigned int i, tain *when)
{
  tain t ;
  tain_addsec(when, &rspawn_pool.w[i].idle, (int)rspawn_idle) ;
  tain_addsec(&t, &rspawn_jobs[i].born, (int)rspawn_reusetime) ;
  if (tain_less(&t, when)) *when = t ;
}

static int idle (unsigned int i)
{
  wpool_worker const *w = rspawn_pool.w + i ;
  return w->pid && w->fd >= 0 && !w->busy ;
}

int rspawn_idle_deadline (tain *when)
{
  int any = 0 ;
  for (unsigned int i = 0 ; i < RSPAWN_PROCS ; i++)
  {
    tain t ;
    if (!idle(i)) continue ;
    expiry(i, &t) ;
    if (!any || tain_less(&t, when)) *when = t ;
    any = 1 ;
  }
  return any ;
}

void rspawn_idle_tick (void)
{
  for (unsigned int i = 0 ; i < RSPAWN_PROCS ; i++)
  {
    tain t ;
    if (!idle(i)) continue ;
    expiry(i, &t) ;
    if (!tain_less(&STAMP, &t)) rspawn_drop(i) ;
  }
}

void rspawn_idle_end (void)
{
  rspawn_eof = 1 ;
  for (unsigned int i = 0 ; i < RSPAWN_PROCS ; i++)
    if (idle(i)) rspawn_drop(i) ;
}

/* remote i answered and offers its connection: 1 if it is kept. Not at
   end of input, past its uses or age, or beyond RSPAWN_SLOTS idle ones
   (then the one idle the longest goes, so no job waits for a slot) */
int rspawn_idle_keep (unsigned int i)
{
  unsigned int n, busy ;
  tain t ;
  if (rspawn_eof || rspawn_pool.w[i].served >= rspawn_reuse) return 0 ;
  tain_addsec(&t, &rspawn_jobs[i].born, (int)rspawn_reusetime) ;
  if (!tain_less(&STAMP, &t)) return 0 ;
  n = wpool_count(&rspawn_pool, &busy) ;
  if (n - busy > RSPAWN_SLOTS)
  {
    int j = wpool_oldest(&rspawn_pool) ;
    if (j >= 0) rspawn_drop((unsigned int)j) ;
  }
  return 1 ;
}
