#ifndef RSPAWN_H
#define RSPAWN_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include "addr.h"
#include "spawner.h"

/* a job carries at most this many recipients, all at one domain */
#define RSPAWN_RCPT_MAX SPAWNER_RCPT_MAX
/* jobs (remote processes, SMTP connections) at once; send's
   concurrencyremote is capped to it */
#define RSPAWN_SLOTS 1000
/* a field: its letter and at most ADDR_MAX bytes */
#define RSPAWN_FIELD_MAX SPAWNER_FIELD_MAX
/* a job record: J, M, F, a T per recipient, and the final NUL */
#define RSPAWN_JOB_MAX ((3 + RSPAWN_RCPT_MAX) * (RSPAWN_FIELD_MAX + 1) + 1)
/* remote's record: per recipient a letter, 1000 bytes of text and a NUL */
#define RSPAWN_TEXT_MAX 1000
#define RSPAWN_OUT_MAX (RSPAWN_RCPT_MAX * (RSPAWN_TEXT_MAX + 2) + 1)

typedef struct rspawn_job_s rspawn_job ;
struct rspawn_job_s
{
  pid_t pid ;        /* running remote, 0 once reaped or if none */
  int fd ;           /* read end of its output, -1 once at EOF */
  int wstat ;
  unsigned int n ;   /* recipients; 0: the slot is free */
  int reported ;     /* its result record is written */
  char id[RSPAWN_FIELD_MAX] ;
  stralloc out ;     /* what remote wrote, at most RSPAWN_OUT_MAX bytes */
} ;

extern rspawn_job rspawn_jobs[RSPAWN_SLOTS] ;
extern unsigned int rspawn_active ;

/* rspawn_job.c: a job record from send */
extern void rspawn_job_start (char const *s, size_t len) ;
extern void rspawn_spawn_init (char const *home) ;
extern void rspawn_job_free (unsigned int j) ;
/* rspawn_result.c */
extern void rspawn_read (unsigned int j) ;
extern void rspawn_reaped (unsigned int j, int wstat) ;

#endif
