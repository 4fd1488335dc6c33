/* Clients that came while every session was busy, oldest first: each
   waits up to LISTEN_HOLD_SEC for a worker to free (a session ending
   a moment after the next client connects is common), then reads a
   421. A ring of LISTEN_HOLD_MAX descriptors; when it is full a new
   client is refused at once. */

#include <skalibs/tai.h>
#include "listen.h"

static struct { struct listen_conn k ; tain deadline ; } ring[LISTEN_HOLD_MAX] ;
static unsigned int head, count ;

int listen_hold_push (struct listen_conn const *k)
{
  unsigned int i ;
  if (count == LISTEN_HOLD_MAX) return 0 ;
  i = (head + count++) % LISTEN_HOLD_MAX ;
  ring[i].k = *k ;
  tain_addsec_g(&ring[i].deadline, LISTEN_HOLD_SEC) ;
  return 1 ;
}

tain const *listen_hold_next (void)
{
  return count ? &ring[head].deadline : 0 ;
}

int listen_hold_pop (struct listen_conn *k)
{
  if (!count) return 0 ;
  *k = ring[head].k ;
  head = (head + 1) % LISTEN_HOLD_MAX ;
  count-- ;
  return 1 ;
}
