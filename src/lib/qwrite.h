#ifndef POSTERN_QWRITE_H
#define POSTERN_QWRITE_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include "date822.h"
#include "envelope.h"
#include "queue.h"

/* Writing messages into the queue, as queue-inject(8) does one at a time
   and queue-writer(8) does for many clients at once (postern-queue(5)):
   body and intake files first, then a commit makes them durable and
   visible in todo. */

/* "Received: (postern PID invoked by uid UID); DATE\n" */
#define QWRITE_RECEIVED_MAX (19 + 20 + 16 + 20 + 3 + DATE822_FMT + 1)
/* ids are made from the clock; give up if the body name keeps existing */
#define QWRITE_ID_TRIES 100
/* control/databytes absent: Postfix's default message_size_limit */
#define QWRITE_DATABYTES_DEFAULT 10240000
/* concurrent fsyncs in a commit, at most (threads) */
#define QWRITE_SYNC_MAX 64

typedef struct qwrite_msg_s qwrite_msg, *qwrite_msg_ref ;
struct qwrite_msg_s
{
  char id[QUEUE_ID_MAX + 1] ;
  int body ;        /* open body file, or -1 */
  int intake ;      /* open intake file, or -1 */
  unsigned char havebody ;   /* ROOT/body/N/ID is ours to remove */
  unsigned char haveintake ; /* ROOT/intake/N/ID is ours to remove */
  unsigned char visible ;    /* renamed into todo: send's now */
  int code ;        /* 0, or the qexit code it failed with */
} ;
#define QWRITE_MSG_ZERO { "", -1, -1, 0, 0, 0, 0 }

/* makes a new id (in subdirectory sub if sub >= 0) in the next queue
   root from *cursor with room bytes free (queue_root_pick) and creates
   its body file exclusively; 1, or 0 with errno and m->code set */
extern int qwrite_body (qwrite_msg *m, int sub, unsigned int *cursor, unsigned long room) ;
/* the room a root needs for a message of at most databytes (0: none) */
extern unsigned long qwrite_room (unsigned long databytes) ;
/* the Received line a queued body starts with; returns its length */
extern size_t qwrite_received (char *s, pid_t pid, uid_t uid) ;
/* the qexit code of an envelope error */
extern int qwrite_env_code (enum env_error e) ;
/* appends the info fields u and p (postern-queue(5)); 1, or 0 on ENOMEM */
extern int qwrite_info (stralloc *sa, uid_t uid, pid_t pid) ;
/* creates and writes (without fsync) the intake file; 1, or 0 with errno
   and m->code set */
extern int qwrite_intake (qwrite_msg *m, char const *s, size_t len) ;
/* fsyncs n descriptors, up to par at once (par <= 1: one after the
   other); errs[i] gets 0 or the errno of fds[i] */
extern void qwrite_syncall (int const *fds, int *errs, unsigned int n, unsigned int par) ;
/* commits the messages of m whose code is 0: makes each durable and
   visible, or sets its code (visible may already be 1 then) and sets
   its root aside (queue_root_failed); warns on stderr; pokes the
   trigger once; returns how many fsyncs it made */
extern unsigned int qwrite_commit (qwrite_msg *m, unsigned int n, unsigned int par) ;
/* closes what m holds open and removes what it made, unless visible */
extern void qwrite_abort (qwrite_msg *m) ;

#endif
