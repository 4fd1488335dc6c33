#ifndef RSPAWN_H
#define RSPAWN_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/tai.h>
#include "addr.h"
#include "spawner.h"
#include "wpool.h"

/* a job carries at most this many recipients, all at one domain */
#define RSPAWN_RCPT_MAX SPAWNER_RCPT_MAX
/* jobs at once; send's concurrencyremote is capped to it */
#define RSPAWN_SLOTS 1000
/* remotes (processes, SMTP connections) at once: one per job running,
   and at most as many idle, each keeping a connection for its domain */
#define RSPAWN_PROCS (2 * RSPAWN_SLOTS)
/* a field: its letter and at most ADDR_MAX bytes */
#define RSPAWN_FIELD_MAX SPAWNER_FIELD_MAX
/* a job record: J, M, F, a T per recipient, and the final NUL */
#define RSPAWN_JOB_MAX ((3 + RSPAWN_RCPT_MAX) * (RSPAWN_FIELD_MAX + 1) + 1)
/* remote's record: per recipient a letter, 1000 bytes of text and a NUL */
#define RSPAWN_TEXT_MAX 1000
#define RSPAWN_OUT_MAX (RSPAWN_RCPT_MAX * (RSPAWN_TEXT_MAX + 2) + 1)
/* jobs one remote (so one connection) takes, control/remotereuse
   (OpenSMTPD's 100 mails per session; 1: a connection per message) */
#define RSPAWN_REUSE 100
#define RSPAWN_REUSE_MAX 100000
/* seconds an idle remote keeps its connection, control/remoteidle
   (Postfix 2, OpenSMTPD 10) */
#define RSPAWN_IDLE 5
#define RSPAWN_IDLE_MAX 3600
/* seconds after its start a remote takes no new job,
   control/remotereusetime (Postfix's smtp_connection_reuse_time_limit) */
#define RSPAWN_REUSETIME 300
#define RSPAWN_REUSETIME_MAX 86400

/* a remote (a wpool slot) and the job it runs */
typedef struct rspawn_job_s rspawn_job ;
struct rspawn_job_s
{
  unsigned int n ;                 /* recipients of its job; 0: none */
  char id[RSPAWN_FIELD_MAX] ;
  char domain[ADDR_MAX + 1] ;      /* what it was started for */
  tain born ;
} ;

extern rspawn_job rspawn_jobs[RSPAWN_PROCS] ;
extern wpool rspawn_pool ;
extern unsigned int rspawn_active ;
/* remotes started and not reaped yet: waited for at end of input */
extern unsigned int rspawn_children ;
extern unsigned int rspawn_reuse, rspawn_idle, rspawn_reusetime ;
extern int rspawn_eof ;

/* rspawn_job.c: a job record from send */
extern void rspawn_job_start (char const *s, size_t len) ;
extern void rspawn_spawn_init (char const *home) ;
/* lets remote i go: it says QUIT and exits; its pid is forgotten */
extern void rspawn_drop (unsigned int i) ;
/* rspawn_result.c */
extern void rspawn_read (unsigned int i) ;
extern void rspawn_reaped (pid_t pid, int wstat) ;
/* rspawn_idle.c: the idle remotes' clocks */
extern int rspawn_idle_deadline (tain *when) ;
extern void rspawn_idle_tick (void) ;
extern void rspawn_idle_end (void) ;
extern int rspawn_idle_keep (unsigned int i) ;

#endif
