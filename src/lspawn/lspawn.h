#ifndef LSPAWN_H
#define LSPAWN_H

#include <stddef.h>
#include <sys/types.h>
#include "addr.h"

/* a job carries at most this many recipients (send gives one) */
#define LSPAWN_RCPT_MAX 100
/* recipients of running jobs, so also jobs, at once: each holds a child,
   a pipe and LSPAWN_TEXT_MAX bytes */
#define LSPAWN_SLOTS 2000
/* bytes of a child's output kept as its result text (spec: texts <= 1000) */
#define LSPAWN_TEXT_MAX 1000
/* a field: its letter and at most ADDR_MAX bytes, NUL excluded */
#define LSPAWN_FIELD_MAX (1 + ADDR_MAX)
/* a job record: J, M, F, then T and L per recipient, and the final NUL */
#define LSPAWN_JOB_MAX ((3 + 2 * LSPAWN_RCPT_MAX) * (LSPAWN_FIELD_MAX + 1) + 1)

typedef struct lspawn_rcpt_s lspawn_rcpt, *lspawn_rcpt_ref ;
struct lspawn_rcpt_s
{
  pid_t pid ;       /* running child, 0 if none */
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
extern char const *lspawn_alias_user ;
extern char const *lspawn_alias_home ;  /* absolute: <home>/alias */

/* lspawn_job.c: a job record from send; frees a reported job */
extern void lspawn_job_start (char const *s, size_t len) ;
extern void lspawn_job_free (unsigned int j) ;
/* lspawn_spawn.c */
extern void lspawn_spawn_init (char const *home) ;
extern void lspawn_spawn (unsigned int r, lspawn_delivery const *d) ;
/* lspawn_result.c: a recipient's result decided by lspawn, text s1 s2
   [": " s3]; the job's record goes out when its last one is final */
extern void lspawn_final (unsigned int r, char status, char const *s1, char const *s2, char const *s3) ;
/* the child's pipe is readable; the child was reaped */
extern void lspawn_read (unsigned int r) ;
extern void lspawn_reaped (unsigned int r, int wstat) ;
/* a job refused whole: n fields Z text */
extern void lspawn_reply_all (char const *id, unsigned int n, char const *text) ;

#endif
