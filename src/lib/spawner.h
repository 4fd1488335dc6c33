#ifndef POSTERN_SPAWNER_H
#define POSTERN_SPAWNER_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include "addr.h"
#include "frame.h"

/* What lspawn and rspawn share: the job records send writes them
   (lspawn(8), rspawn(8)), the records they answer with, and their main
   loop. */

/* a job field: its letter and at most ADDR_MAX bytes */
#define SPAWNER_FIELD_MAX (1 + ADDR_MAX)
/* the most recipients a job carries, in both spawners */
#define SPAWNER_RCPT_MAX 100

/* J M F, then per recipient T (and L when with_local) */
typedef struct spawner_job_s spawner_job ;
struct spawner_job_s
{
  char const *id ;
  char const *msgid ;
  char const *sender ;
  unsigned int n ;      /* recipients kept: those before any error */
  unsigned int nt ;     /* T fields seen: the result fields owed */
  char const *addr[SPAWNER_RCPT_MAX] ;
  char const *local[SPAWNER_RCPT_MAX] ;
} ;

enum spawner_parse_e { SPAWNER_OK, SPAWNER_MALFORMED, SPAWNER_TOOMANY } ;

/* Parses a job record; dies 111 without a usable J field (it cannot be
   answered). Checks the order of fields, their lengths, the recipient
   count and the message id; not that there is a recipient. */
extern enum spawner_parse_e spawner_parse (spawner_job *v, char const *s, size_t len, int with_local) ;

/* writes a result record (fields, each NUL-ended, without the final
   empty one) on fd 1, ending it; dies 111 if it cannot */
extern void spawner_put (char const *s, size_t len) ;
/* the record J<id> and n fields Z<text> */
extern void spawner_reply_all (char const *id, unsigned int n, char const *text) ;

/* a spawner's main loop: job records on fd 0, children's fds, SIGCHLD */
typedef struct spawner_s spawner ;
struct spawner_s
{
  size_t jobmax ;        /* the largest job record, in bytes */
  unsigned long fdmax ;  /* descriptors wanted (soft limit raised to it) */
  iopause_fd *x ;        /* room for xmax descriptors, 2 of them ours */
  unsigned int *tok ;    /* what fds() said each one is */
  unsigned int xmax ;
  frame_func *job ;                                   /* a job record */
  unsigned int (*active) (void) ;                     /* jobs unanswered */
  /* the children's fds to wait on, at most max; returns how many */
  unsigned int (*fds) (iopause_fd *x, unsigned int *tok, unsigned int max) ;
  void (*ready) (unsigned int tok, int revents) ;
  void (*reaped) (pid_t pid, int wstat) ;
  /* may be 0: the next deadline (1) or none (0); and, after each wait,
     the caller's turn to act on its clocks (tain_now_g is current) */
  int (*deadline) (tain *when) ;
  void (*tick) (void) ;
  /* may be 0: called once, when fd 0 ends */
  void (*eof) (void) ;
} ;

/* ignores SIGPIPE, traps SIGCHLD in a selfpipe, makes fd 0 non-blocking,
   then loops until end of file on fd 0 and no job active; dies 111 on
   a set-up or read error */
extern void spawner_run (spawner const *s) ;

#endif
