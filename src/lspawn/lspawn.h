#ifndef LSPAWN_H
#define LSPAWN_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include "addr.h"
#include "ldeliver.h"
#include "spawner.h"
#include "wpool.h"

/* a job carries at most this many recipients (send gives one) */
#define LSPAWN_RCPT_MAX SPAWNER_RCPT_MAX
/* recipients of running jobs, so also jobs, at once: each holds a child,
   a pipe and LSPAWN_TEXT_MAX bytes */
#define LSPAWN_SLOTS 2000
/* bytes of a child's output kept as its result text (spec: texts <= 1000) */
#define LSPAWN_TEXT_MAX 1000
/* a field: its letter and at most ADDR_MAX bytes, NUL excluded */
#define LSPAWN_FIELD_MAX SPAWNER_FIELD_MAX
/* a job record: J, M, F, then T and L per recipient, and the final NUL */
#define LSPAWN_JOB_MAX ((3 + 2 * LSPAWN_RCPT_MAX) * (LSPAWN_FIELD_MAX + 1) + 1)

/* delivery workers (lspawn_worker.c), one per account at most: at most
   LSPAWN_WORKERS_MAX at once (control/localworkers, default
   LSPAWN_WORKERS; 0: every delivery one-shot) */
#define LSPAWN_WORKERS_MAX 256
#define LSPAWN_WORKERS 32
/* deliveries given to one worker over its life (control/localworkeruses,
   at most LDELIVER_USES_MAX) */
#define LSPAWN_WORKER_USES 100
/* seconds a worker with nothing to do is kept (control/localworkeridle,
   at most LSPAWN_WORKER_IDLE_MAX) */
#define LSPAWN_WORKER_IDLE 5
#define LSPAWN_WORKER_IDLE_MAX 3600
/* deliveries given to a worker and not answered yet; past it a
   delivery for its account runs one-shot. Of them the worker has made
   at most LDELIVER_BATCH_MAX (one group) unanswered: what a worker
   killed at the worst moment may have delivered unreported */
#define LSPAWN_WORKER_QUEUE (2 * LDELIVER_BATCH_MAX)

typedef struct lspawn_rcpt_s lspawn_rcpt, *lspawn_rcpt_ref ;
struct lspawn_rcpt_s
{
  pid_t pid ;       /* running one-shot child, 0 if none */
  int worker ;      /* the worker it was given to, -1 if none */
  int fd ;          /* read end of its output pipe, -1 once closed */
  unsigned int job ;
  char status ;     /* K, Z or D once final, 0 before */
  size_t len ;
  char text[LSPAWN_TEXT_MAX] ;
} ;

typedef struct lspawn_job_s lspawn_job, *lspawn_job_ref ;
struct lspawn_job_s
{
  unsigned int n ;        /* recipients, 0 if the slot is free */
  unsigned int pending ;  /* recipients not final yet */
  char id[LSPAWN_FIELD_MAX] ;
  unsigned short rcpt[LSPAWN_RCPT_MAX] ;
} ;

/* the account a worker runs as */
typedef struct lspawn_ids_s lspawn_ids, *lspawn_ids_ref ;
struct lspawn_ids_s
{
  uid_t uid ;
  gid_t gid ;
} ;

/* what the child needs to run local for one recipient */
typedef struct lspawn_delivery_s lspawn_delivery, *lspawn_delivery_ref ;
struct lspawn_delivery_s
{
  uid_t uid ;
  gid_t gid ;
  char const *user ;
  char const *home ;
  char const *ext ;
  char const *addrs ;     /* alias: the addresses; 0 for a user */
  char const *localname ;
  char const *domain ;
  char const *sender ;
  char const *recipient ;
  char const *msgid ;
} ;

extern lspawn_rcpt lspawn_rcpts[LSPAWN_SLOTS] ;
extern lspawn_job lspawn_jobs[LSPAWN_SLOTS] ;
extern unsigned int lspawn_jobs_active ;
extern int lspawn_root ;
extern unsigned int lspawn_workers_max, lspawn_worker_uses, lspawn_worker_idle ;
extern char const *lspawn_alias_user ;
extern char const *lspawn_alias_home ;  /* absolute: <home>/alias */

/* lspawn_job.c: a job record from send; frees a reported job */
extern void lspawn_job_start (char const *s, size_t len) ;
extern void lspawn_job_free (unsigned int j) ;
/* lspawn_spawn.c */
extern void lspawn_spawn_init (char const *home) ;
extern void lspawn_spawn (unsigned int r, lspawn_delivery const *d) ;
/* starts a worker for key in p as the account id: wpool_spawn's */
extern int lspawn_spawn_worker (wpool *p, uint64_t key, lspawn_ids const *id) ;
/* lspawn_worker.c: the pool, once the control files are read */
extern void lspawn_worker_init (void) ;
/* gives recipient r to its account's worker, starting one if there is
   room; 0 if it must run one-shot */
extern int lspawn_worker_give (unsigned int r, lspawn_delivery const *d) ;
/* the main loop's share: the sockets to wait on (tokens from base),
   one readable, a worker reaped (0 if pid is none), the next idle
   deadline (0 if none), the idle ones let go */
extern unsigned int lspawn_worker_fds (iopause_fd *x, unsigned int *tok, unsigned int max, unsigned int base) ;
extern void lspawn_worker_read (unsigned int w) ;
extern int lspawn_worker_reaped (pid_t pid, int wstat) ;
extern int lspawn_worker_deadline (tain *when) ;
extern void lspawn_worker_tick (void) ;
/* lspawn_result.c: a recipient's result decided by lspawn, text s1 s2
   [": " s3]; the job's record goes out when its last one is final */
extern void lspawn_final (unsigned int r, char status, char const *s1, char const *s2, char const *s3) ;
/* the child's pipe is readable; the child was reaped */
extern void lspawn_read (unsigned int r) ;
extern void lspawn_reaped (unsigned int r, int wstat) ;

#endif
