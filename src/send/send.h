#ifndef SEND_H
#define SEND_H

#include <stdint.h>
#include <sys/types.h>
#include <skalibs/bufalloc.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include "queue.h"
#include "state.h"

/* Lanes: fresh mail and mail deferred for long go through separate slots */
enum lane { LANE_FAST, LANE_SLOW } ;
enum chan { CHAN_LOCAL, CHAN_REMOTE } ;
enum phase { PH_ACTIVE, PH_BOUNCING, PH_REMOVING } ;

/* Most messages held in memory: each costs ~290 bytes with one
   recipient (measured, bench/README.md), so ~1.2 GB at the bound. At the
   bound send stops asking record for new mail, which waits in todo: the
   bound is above the 10^6 queued messages send must serve at full speed
   (DESIGN lesson 1). */
#define SEND_MSG_MAX 4000000
/* how often send asks record to look at todo even without a trigger */
#define TODO_RESCAN 60
/* concurrent bounce programs */
#define BOUNCE_MAX 8
/* a failed bounce program is retried after this many seconds */
#define BOUNCE_RETRY 60
/* remote jobs at once: rspawn's slots (RSPAWN_SLOTS) */
#define SEND_REMOTE_MAX 1000
/* recipients in one job: lspawn's and rspawn's limit */
#define JOB_RCPT_MAX 100
/* bytes of one log text (agent report, bounce output) kept */
#define TEXT_MAX 1000

struct rcpt
{
  uint32_t addr ;       /* offsets into msg->strings */
  uint32_t localname ;
  uint32_t lasttry ;
  uint32_t nexttry ;
  uint16_t attempts ;
  uint16_t seq ;        /* bumped when scheduled: older queue entries are stale */
  char status ;         /* ST_* of state.h */
  char channel ;        /* CH_* of state.h */
  unsigned char busy ;  /* in a running job */
} ;

struct msg
{
  char id[QUEUE_ID_MAX + 1] ;
  uint32_t birth ;
  unsigned long size ;
  stralloc strings ;    /* sender NUL, then addr NUL localname NUL per rcpt */
  struct rcpt *rcpts ;
  unsigned int nrcpts ;
  unsigned int todo ;   /* status T */
  unsigned int busy ;   /* in jobs */
  unsigned int failed ; /* status F */
  unsigned int acks ;   /* U requests record has not acknowledged */
  unsigned char phase ;
  unsigned char bouncing ;
  uint32_t bounceat ;   /* 0, or when to (re)try its bounce */
  uint32_t refs ;       /* scheduler entries that point here */
  unsigned char gone ;  /* out of the queue, freed once refs is 0 */
  unsigned char held ;  /* by the operator: nothing scheduled */
  unsigned char doomed ; /* removed by the operator: send_ops_doom */
} ;

#define MSG_SENDER(m) ((m)->strings.s)
#define RCPT_ADDR(m, r) ((m)->strings.s + (r)->addr)
#define RCPT_LOCAL(m, r) ((m)->strings.s + (r)->localname)

struct config
{
  unsigned int conc[2][2] ;     /* [chan][lane] */
  unsigned long retrybase ;     /* fast lane: k-th retry at birth + (retrybase k)^2 */
  unsigned long slowafter ;     /* a deferred recipient this old goes slow */
  unsigned long slowretry ;     /* slow lane: at least this long between tries */
  unsigned long lifetime ;      /* control/queuelifetime */
  unsigned long statusinterval ;
  unsigned long backoffmin ;    /* a dead destination's first probe interval */
  unsigned long backoffmax ;    /* and its longest, doubled from the first */
} ;
extern struct config send_conf ;
extern int send_config_read (struct config *c) ;

/* A long-lived child over two pipes */
struct child
{
  char const *name ;
  int in ;              /* its fd 0, our write end; -1 once closed */
  int out ;             /* its fd 1, our read end; -1 at EOF */
  bufalloc w ;
  buffer r ;
  char rbuf[8192] ;
  stralloc rec ;
  size_t max ;          /* longest record it may send */
  unsigned long pending ; /* requests not answered yet */
} ;
enum { C_RECORD, C_CLEAN, C_LSPAWN, C_RSPAWN, C_N } ;
extern struct child send_children[C_N] ;
extern void send_children_start (void) ;
extern int send_children_starter (uint32_t now) ;
extern void send_child_lost (unsigned int k, uint32_t now) ;
extern void send_child_readable (unsigned int k, uint32_t now) ;   /* send.c */
extern int send_child_put (struct child *c, char const *s, size_t len) ;

/* send_index.c: id -> message */
extern struct msg *send_index_get (char const *id) ;
extern int send_index_put (struct msg *m) ;
extern void send_index_del (struct msg *m) ;
extern unsigned long send_index_count (void) ;

/* send_sched.c */
extern unsigned int send_inflight[2][2] ;
extern void send_sched_rcpt (struct msg *m, unsigned int i, uint32_t now) ;
extern void send_sched_retry (struct msg *m, unsigned int i, uint32_t now) ;
extern void send_sched_due (uint32_t now) ;
extern void send_sched_dispatch (uint32_t now, int stopping) ;
extern void send_sched_alarm (void) ;
extern uint32_t send_sched_next (void) ;   /* 0: nothing waits */
extern unsigned long send_sched_waiting (void) ;
extern enum lane send_rcpt_lane (struct msg const *m, struct rcpt const *r, uint32_t now) ;

/* send_dest.c: each remote destination's health (send(8)): a static
   route's target, else the recipients' domain.
   Destinations tracked: past this, the alive one used least recently
   with nothing running or parked is forgotten; if none is, a new
   destination goes untracked (treated as alive). */
#define DEST_MAX 10000
/* a destination's name: a domain (RFC 1035), or "route " and a route */
#define DEST_KEY_MAX 255
extern char const *send_dest_key (char const *addr, size_t *len, uint32_t now) ;
enum dest_verdict { DV_START, DV_PROBE, DV_HOLD, DV_DEFER } ;
extern enum dest_verdict send_dest_admit (char const *addr, uint32_t now, uint64_t *ref) ;
extern void send_dest_park (char const *addr, struct msg *m, unsigned int i, int held, uint32_t now) ;
extern void send_dest_wait (char const *addr, struct msg *m, unsigned int i, int held, uint32_t now) ;
extern void send_dest_result (char const *addr, uint64_t ref, int probe, int sitefail, char const *text, uint32_t now) ;
extern void send_dest_alarm (void) ;
extern void send_dest_retry (char const *addr, uint32_t now) ;
extern unsigned long send_dest_count (unsigned long *dead) ;
extern int send_dest_defer_rcpt (struct msg *m, unsigned int i, char const *text, uint32_t now) ;
extern int send_dest_sitefail (char const *text) ;
extern void send_dest_unprobe (uint64_t ref) ;

/* send_jobs.c */
extern unsigned long send_jobs_running (void) ;
extern int send_job_start (struct msg *m, uint32_t const *idx, unsigned int n, enum chan chan, enum lane lane, int probe, uint64_t dest) ;
extern void send_job_result (char const *s, size_t len, uint32_t now) ;
extern unsigned long send_jobs_requeue (enum chan chan, uint32_t now) ;

/* send_msg.c */
extern void send_msg_load (char const *s, size_t len, uint32_t now) ;
extern void send_msg_update (struct msg *m, unsigned int i, char const *text, size_t textlen) ;
extern void send_msg_check (struct msg *m, uint32_t now) ;
extern void send_msg_acked (char const *id, uint32_t now) ;
extern void send_msg_state_removed (char const *id) ;
extern void send_msg_body_removed (char const *id) ;
extern void send_msg_release (struct msg *m) ;

/* send_bounce.c */
extern unsigned int send_bouncers_running (void) ;
extern void send_bounce_want (struct msg *m) ;
extern void send_bounce_start_due (uint32_t now, int stopping) ;
extern void send_bounce_reap (pid_t pid, int wstat, uint32_t now) ;
extern uint32_t send_bounce_next (void) ;
extern int send_bounce_fds (void *x, unsigned int max) ;  /* iopause_fd */
extern void send_bounce_read (int fd) ;

/* send_ops.c: the operator's requests (queue-ctl(8)) */
extern int send_ops_open (void) ;           /* the FIFO's fd, or -1 */
extern void send_ops_read (uint32_t now) ;  /* it is readable */
extern void send_ops_loaded (struct msg *m) ;
extern void send_ops_doom (struct msg *m) ;

/* send_log.c: one line per event on stdout (postern-log(5)) */
extern void send_log_start (char const *s) ;
extern void send_log_add (char const *s) ;
extern void send_log_addb (char const *s, size_t len) ;   /* escaped, cut at TEXT_MAX */
extern void send_log_addu (unsigned long u) ;
extern void send_log_end (void) ;
extern void send_log_flush (void) ;

#endif
