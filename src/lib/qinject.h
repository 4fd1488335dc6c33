#ifndef POSTERN_QINJECT_H
#define POSTERN_QINJECT_H

#include <stddef.h>
#include <sys/types.h>
#include "queue.h"

/* Queueing a message from a program (smtpd, bounce, inject, local's
   forwards): through queue-writer(8)'s socket when it answers, else by
   running queue-inject(8) (the message on its fd 0, then the envelope
   on its fd 1). Either way the result is queue-inject's exit code. */

/* the writer's socket, relative to the home */
#define QINJECT_SOCKET "queue-writer/socket"
/* bytes of one message netstring to the writer, at most */
#define QINJECT_CHUNK_MAX 65536
/* seconds one write to or read from the writer may wait */
#define QINJECT_TIMEOUT 1200
/* the writer's answer: "code" or "0 id", as a netstring */
#define QINJECT_ANSWER_MAX (8 + QUEUE_ID_MAX)

typedef struct qinject_s qinject, *qinject_ref ;
struct qinject_s
{
  pid_t pid ;  /* queue-inject's, or 0 when the writer takes the message */
  int msg ;    /* pipe to queue-inject's fd 0, or -1 */
  int env ;    /* pipe to its fd 1, or -1 */
  int sock ;   /* connection to the writer, or -1 */
  int broken ; /* a write to the writer failed: its answer says why */
  char id[QUEUE_ID_MAX + 1] ; /* the writer's id, after qinject_finish returned 0 */
} ;

/* With msgfd < 0: connects to the writer, or if it is absent or refuses
   the connection, starts home_dir()/bin/queue-inject with a pipe to
   write the message into; the caller writes with qinject_write. With
   msgfd >= 0: starts queue-inject reading msgfd as its fd 0. errfd >= 0
   becomes queue-inject's fd 2. Returns 1, or 0 with errno. */
extern int qinject_start (qinject *q, int msgfd, int errfd) ;

/* Writes len bytes of the message (framed for the writer, as is for
   queue-inject); returns how many were written, less than len with
   errno on failure (queue-inject or the writer gave up: qinject_finish
   says why). */
extern size_t qinject_write (qinject *q, char const *s, size_t len) ;

/* Ends the message, sends the envelope (env, envlen: a whole envelope,
   final NUL included) and waits for the result. env == 0: sends none,
   so a message cut short is refused, never queued: this is how a caller
   abandons a message it refused, and neither queue-inject nor the
   writer logs it (the caller says why). Returns
   queue-inject's exit code (qexit.h), 256 + the signal that killed it,
   or -1 with errno if it could not be waited for or the writer's answer
   could not be read. */
extern int qinject_finish (qinject *q, char const *env, size_t envlen) ;

#endif
