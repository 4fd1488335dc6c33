#include <skalibs/strerr.h>
#include "control.h"
#include "send.h"

struct config send_conf ;

struct setting
{
  char const *name ;
  unsigned long def ;
  unsigned long min ;   /* 0 would stop a lane or spin the scheduler */
} ;

/* defaults are qmail's where qmail has one (retry base 20 s for remote,
   lifetime 7 days), Postfix's for a dead destination's backoff
   (minimal_backoff_time, maximal_backoff_time); see send(8) */
static struct setting const settings[] =
{
  { "concurrencylocal", 10, 1 },
  { "concurrencyremote", 20, 1 },
  { "concurrencyslow", 2, 1 },
  { "retrybase", 20, 1 },
  { "slowafter", 1800, 0 },
  { "slowretry", 3600, 1 },
  { "queuelifetime", 604800, 1 },
  { "statusinterval", 60, 1 },
  { "backoffmin", 300, 1 },
  { "backoffmax", 4000, 1 },
} ;

/* Reads every setting; on error keeps c as it was and returns 0. */
int send_config_read (struct config *c)
{
  unsigned long v[sizeof settings / sizeof *settings] ;
  for (unsigned int i = 0 ; i < sizeof settings / sizeof *settings ; i++)
  {
    if (control_readuint(&v[i], settings[i].name, settings[i].def) < 0)
    {
      strerr_warnwu2sys("read control/", settings[i].name) ;
      return 0 ;
    }
    if (v[i] < settings[i].min) v[i] = settings[i].min ;
  }
  /* concurrency is bounded by what one process may wait on */
  for (unsigned int i = 0 ; i < 3 ; i++) if (v[i] > 10000) v[i] = 10000 ;
  if (v[1] > SEND_REMOTE_MAX) v[1] = SEND_REMOTE_MAX ;
  c->conc[CHAN_LOCAL][LANE_FAST] = v[0] ;
  c->conc[CHAN_REMOTE][LANE_FAST] = v[1] ;
  c->conc[CHAN_LOCAL][LANE_SLOW] = v[2] ;
  c->conc[CHAN_REMOTE][LANE_SLOW] = v[2] > SEND_REMOTE_MAX ? SEND_REMOTE_MAX : v[2] ;
  c->retrybase = v[3] ;
  c->slowafter = v[4] ;
  c->slowretry = v[5] ;
  c->lifetime = v[6] ;
  c->statusinterval = v[7] ;
  c->backoffmin = v[8] ;
  c->backoffmax = v[9] < v[8] ? v[8] : v[9] ;
  return 1 ;
}
