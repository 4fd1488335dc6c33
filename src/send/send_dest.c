/* Remote destinations' health, as Postfix's qmgr keeps its dead queues.
   A destination is a static route's target, else the domain of a job's
   recipients (send_dest_key). A job whose every recipient failed at the
   connection level (remote marks the text with SITE_MARK) makes it
   dead: its due mail is deferred without starting anything, one probe
   job goes at the backoff, and the first job that reaches a server
   makes it alive and releases what it parked. A destination not seen
   since send started takes one job first, its other due mail held
   until that job's result. The health is in memory only: a restart
   probes again. */

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <skalibs/genalloc.h>
#include <skalibs/strerr.h>
#include "sitefail.h"
#include "send.h"

#define DEST_NAME_MAX DEST_KEY_MAX
/* the last failure's text kept, for a recipient that expires meanwhile */
#define DEST_TEXT_MAX 200
/* hash buckets: a power of two, DEST_MAX / 0.6 */
#define DEST_BUCKETS 16384
/* a deferral behind a dead destination, as its result text */
#define DEFER_TEXT "destination dead: "
/* a parked list is compacted when it holds this many times the valid
   entries it held at its last compaction (stale ones: rescheduled since) */
#define PARK_SLACK 2

enum dest_state { DS_NEW, DS_ALIVE, DS_DEAD } ;

struct park { struct msg *m ; uint32_t i ; uint16_t seq ; unsigned char held ; } ;

struct dest
{
  char name[DEST_NAME_MAX + 1] ;  /* lowercased */
  int32_t next ;                  /* bucket chain */
  uint32_t serial ;               /* which use of this slot: a job's ref */
  unsigned char inuse ;
  unsigned char state ;
  unsigned char probing ;         /* a probe job runs */
  uint32_t backoff ;
  uint32_t probeat ;              /* dead: no probe before */
  uint32_t used ;                 /* last job admitted or result */
  genalloc parked ;               /* struct park */
  size_t parkvalid ;
  char text[DEST_TEXT_MAX + 1] ;
} ;

static genalloc dests = GENALLOC_ZERO ;  /* struct dest */
static int32_t buckets[DEST_BUCKETS] ;
static unsigned long ntracked = 0, ndead = 0 ;
static uint32_t serials = 0 ;
static int ready = 0 ;

static uint32_t hash (char const *s, size_t len)
{
  uint32_t h = 2166136261u ;
  for (size_t i = 0 ; i < len ; i++)
  {
    unsigned char c = s[i] ;
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A' ;
    h ^= c ; h *= 16777619u ;
  }
  return h & (DEST_BUCKETS - 1) ;
}

static struct dest *at (int32_t k)
{
  return genalloc_s(struct dest, &dests) + k ;
}

static int same (struct dest const *d, char const *s, size_t len)
{
  return !strncasecmp(d->name, s, len) && !d->name[len] ;
}

static int park_valid (struct park const *p)
{
  struct rcpt const *r = p->m->rcpts + p->i ;
  return !p->m->gone && p->seq == r->seq && !r->busy && r->status == ST_TODO ;
}

static void unlink_bucket (int32_t k)
{
  struct dest *d = at(k) ;
  size_t len = strlen(d->name) ;
  int32_t *p = buckets + hash(d->name, len) ;
  while (*p != k) p = &at(*p)->next ;
  *p = d->next ;
}

/* the alive destination used least recently, nothing parked: -1 if none.
   A scan of DEST_MAX entries, only when the table is full. */
static int32_t victim (void)
{
  int32_t best = -1 ;
  for (int32_t k = 0 ; k < (int32_t)genalloc_len(struct dest, &dests) ; k++)
  {
    struct dest *d = at(k) ;
    if (!d->inuse || d->state != DS_ALIVE || genalloc_len(struct park, &d->parked)) continue ;
    if (best < 0 || d->used < at(best)->used) best = k ;
  }
  return best ;
}

/* the destination of addr, made if new: 0 if the table is full of
   destinations that cannot be forgotten */
static struct dest *get (char const *addr, int make, uint32_t now)
{
  size_t len ;
  char const *name = send_dest_key(addr, &len, now) ;
  uint32_t h = hash(name, len) ;
  int32_t k ;
  struct dest *d ;
  if (!ready)
  {
    for (unsigned int i = 0 ; i < DEST_BUCKETS ; i++) buckets[i] = -1 ;
    ready = 1 ;
  }
  for (k = buckets[h] ; k >= 0 ; k = at(k)->next)
    if (same(at(k), name, len)) return at(k) ;
  if (!make) return 0 ;
  if (genalloc_len(struct dest, &dests) < DEST_MAX)
  {
    struct dest z ;
    memset(&z, 0, sizeof z) ;
    if (!genalloc_append(struct dest, &dests, &z)) strerr_diefu1sys(111, "allocate") ;
    k = (int32_t)genalloc_len(struct dest, &dests) - 1 ;
  }
  else
  {
    k = victim() ;
    if (k < 0) return 0 ;
    unlink_bucket(k) ;
    genalloc_free(struct park, &at(k)->parked) ;
    ntracked-- ;
  }
  d = at(k) ;
  memset(d, 0, sizeof *d) ;
  for (size_t i = 0 ; i < len ; i++)
    d->name[i] = name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 'a' - 'A' : name[i] ;
  d->inuse = 1 ;
  d->serial = ++serials ? serials : ++serials ;
  d->state = DS_NEW ;
  d->used = now ;
  d->next = buckets[h] ;
  buckets[h] = k ;
  ntracked++ ;
  return d ;
}

static void log_dest (char const *what, struct dest const *d) ;

/* *ref names the destination for the job's result, even if the route
   changes meanwhile: 0 when untracked */
enum dest_verdict send_dest_admit (char const *addr, uint32_t now, uint64_t *ref)
{
  struct dest *d = get(addr, 1, now) ;
  *ref = 0 ;
  if (!d) return DV_START ;
  *ref = (uint64_t)d->serial << 32 | (uint32_t)(d - at(0)) ;
  d->used = now ;
  switch (d->state)
  {
    case DS_ALIVE : return DV_START ;
    case DS_NEW :
      if (d->probing) return DV_HOLD ;
      break ;
    default :
      if (d->probing || now < d->probeat) return DV_DEFER ;
      break ;
  }
  d->probing = 1 ;
  log_dest("probe", d) ; send_log_end() ;
  return DV_PROBE ;
}

static void compact (struct dest *d)
{
  struct park *s = genalloc_s(struct park, &d->parked) ;
  size_t n = genalloc_len(struct park, &d->parked), kept = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (park_valid(s + i)) { s[kept++] = s[i] ; continue ; }
    s[i].m->refs-- ;
    send_msg_release(s[i].m) ;
  }
  genalloc_setlen(struct park, &d->parked, kept) ;
  d->parkvalid = kept ;
}

/* held: due, waiting for a probe's result (not counted as a try);
   otherwise deferred and scheduled, parked to be released early */
void send_dest_park (char const *addr, struct msg *m, unsigned int i, int held, uint32_t now)
{
  struct dest *d = get(addr, 0, now) ;
  struct park p = { m, i, m->rcpts[i].seq, (unsigned char)held } ;
  if (!d) return ;
  if (genalloc_len(struct park, &d->parked) >= PARK_SLACK * (d->parkvalid > 64 ? d->parkvalid : 64)) compact(d) ;
  if (!genalloc_append(struct park, &d->parked, &p)) strerr_diefu1sys(111, "allocate") ;
  m->refs++ ;
}

/* A try that starts nothing: counted, recorded (a temporary status:
   record writes it without an fsync) and scheduled as a deferral, with
   the destination's last failure. 1 if the recipient waits again, 0 if
   it expired (failed for good). */
int send_dest_defer_rcpt (struct msg *m, unsigned int i, char const *text, uint32_t now)
{
  struct rcpt *r = m->rcpts + i ;
  char buf[sizeof DEFER_TEXT + DEST_TEXT_MAX] ;
  size_t tlen = strlen(text) ;
  if (tlen > DEST_TEXT_MAX) tlen = DEST_TEXT_MAX ;
  memcpy(buf, DEFER_TEXT, sizeof DEFER_TEXT - 1) ;
  memcpy(buf + sizeof DEFER_TEXT - 1, text, tlen) ;
  tlen += sizeof DEFER_TEXT - 1 ;
  r->attempts += r->attempts < STATE_ATTEMPTS_MAX ;
  r->lasttry = now ;
  if (now - m->birth < send_conf.lifetime)
  {
    send_msg_update(m, i, buf, tlen) ;
    send_sched_retry(m, i, now) ;
    return 1 ;
  }
  r->status = ST_FAILED ;
  m->todo-- ;
  m->failed++ ;
  send_log_start("expired msg ") ; send_log_add(m->id) ;
  send_log_add(" to ") ; send_log_addb(RCPT_ADDR(m, r), strlen(RCPT_ADDR(m, r))) ;
  send_log_add(": 4.4.7 queue lifetime exceeded: ") ;
  send_log_addb(buf, tlen) ;
  send_log_end() ;
  send_msg_update(m, i, "4.4.7 queue lifetime exceeded: destination dead", 47) ;
  send_msg_check(m, now) ;
  return 0 ;
}

/* a due recipient that starts nothing: held for the probe's result, or
   deferred; parked either way */
void send_dest_wait (char const *addr, struct msg *m, unsigned int i, int held, uint32_t now)
{
  struct dest *d = get(addr, 0, now) ;
  if (!held && !send_dest_defer_rcpt(m, i, d ? d->text : "", now)) return ;
  send_dest_park(addr, m, i, held, now) ;
}

static void log_dest (char const *what, struct dest const *d)
{
  send_log_start("destination ") ; send_log_add(what) ; send_log_add(": ") ;
  send_log_addb(d->name, strlen(d->name)) ;
}

/* one remote job's outcome: sitefail if every recipient failed at the
   connection level, else the job reached a server */
void send_dest_result (char const *addr, uint64_t ref, int probe, int sitefail, char const *text, uint32_t now)
{
  uint32_t k = (uint32_t)ref ;
  struct dest *d = ref && k < genalloc_len(struct dest, &dests) && at(k)->inuse && at(k)->serial == ref >> 32
    ? at(k) : get(addr, 1, now) ;
  struct park *s ;
  size_t n ;
  if (!d) return ;
  d->used = now ;
  if (probe) d->probing = 0 ;
  s = genalloc_s(struct park, &d->parked) ;
  n = genalloc_len(struct park, &d->parked) ;
  if (sitefail)
  {
    size_t tlen = strlen(text), kept = 0 ;
    int was = d->state ;
    if (tlen > DEST_TEXT_MAX) tlen = DEST_TEXT_MAX ;
    memcpy(d->text, text, tlen) ; d->text[tlen] = 0 ;
    if (d->state != DS_DEAD)
    {
      d->state = DS_DEAD ;
      d->backoff = send_conf.backoffmin ;
      ndead++ ;
    }
    else if (probe)
      d->backoff = 2 * (uint64_t)d->backoff > send_conf.backoffmax ? send_conf.backoffmax : 2 * d->backoff ;
    else return ;   /* a job started while alive: the probe's timer stands */
    d->probeat = now + d->backoff ;
    log_dest(was == DS_DEAD ? "probe failed" : "dead", d) ;
    send_log_add(": next probe in ") ; send_log_addu(d->backoff) ; send_log_add(" s: ") ;
    send_log_addb(text, tlen) ; send_log_end() ;
    /* what waited for this probe is due again: the ready queues defer
       it (at record's pace) and park it again */
    for (size_t i = 0 ; i < n ; i++)
    {
      struct park p = s[i] ;
      if (park_valid(&p) && !p.held) { s[kept++] = p ; continue ; }
      if (park_valid(&p)) send_sched_rcpt(p.m, p.i, now) ;
      p.m->refs-- ;
      send_msg_release(p.m) ;
    }
    genalloc_setlen(struct park, &d->parked, kept) ;
    d->parkvalid = kept ;
    return ;
  }
  {
    /* released into the ready queues: started at the lanes' concurrency */
    unsigned long released = 0 ;
    for (size_t i = 0 ; i < n ; i++)
    {
      struct park p = genalloc_s(struct park, &d->parked)[i] ;
      if (park_valid(&p))
      {
        p.m->rcpts[p.i].nexttry = now ;
        send_sched_rcpt(p.m, p.i, now) ;
        released++ ;
      }
      p.m->refs-- ;
      send_msg_release(p.m) ;
    }
    if (d->state == DS_DEAD)
    {
      ndead-- ;
      log_dest("alive", d) ; send_log_add(": released ") ; send_log_addu(released) ; send_log_end() ;
    }
    d->state = DS_ALIVE ;
  }
  genalloc_setlen(struct park, &d->parked, 0) ;
  d->parkvalid = 0 ;
}

/* SIGALRM: every dead destination may be probed now */
void send_dest_alarm (void)
{
  for (size_t k = 0 ; k < genalloc_len(struct dest, &dests) ; k++)
    if (at(k)->inuse && at(k)->state == DS_DEAD) at(k)->probeat = 0 ;
}

/* an operator's retry now (send_ops.c): addr's destination, if dead,
   may be probed now */
void send_dest_retry (char const *addr, uint32_t now)
{
  struct dest *d = get(addr, 0, now) ;
  if (d && d->state == DS_DEAD) d->probeat = 0 ;
}

unsigned long send_dest_count (unsigned long *dead)
{
  *dead = ndead ;
  return ntracked ;
}

int send_dest_sitefail (char const *text)
{
  size_t n = strlen(text), m = sizeof SITE_MARK - 1 ;
  return n >= m && !memcmp(text + n - m, SITE_MARK, m) ;
}

/* a probe job that never ended (its spawner died): the next job probes */
void send_dest_unprobe (uint64_t ref)
{
  uint32_t k = (uint32_t)ref ;
  if (ref && k < genalloc_len(struct dest, &dests) && at(k)->inuse && at(k)->serial == ref >> 32)
    at(k)->probing = 0 ;
}
