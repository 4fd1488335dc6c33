#ifndef POSTERN_QINJECT_H
#define POSTERN_QINJECT_H

#include <stddef.h>
#include <sys/types.h>

/* Running queue-inject(8) from a program (local's forwards, bounce,
   smtpd): the message on its fd 0, then the envelope on its fd 1. */
typedef struct qinject_s qinject, *qinject_ref ;
struct qinject_s
{
  pid_t pid ;
  int msg ;   /* pipe to its fd 0, or -1 when a file was given */
  int env ;   /* pipe to its fd 1 */
} ;

/* Starts home_dir()/bin/queue-inject. msgfd >= 0 becomes its fd 0 (a
   file it reads from where it stands); otherwise q->msg is a pipe the
   caller writes the message into. errfd >= 0 becomes its fd 2. Returns
   1, or 0 with errno. */
extern int qinject_start (qinject *q, int msgfd, int errfd) ;

/* Closes the message pipe, writes the envelope (env, envlen: a whole
   envelope, final NUL included) and waits. env == 0: sends none, so a
   message cut short is refused, never queued. Returns queue-inject's
   exit code (qexit.h), 256 + the signal that killed it, or -1 with
   errno if it could not be waited for. */
extern int qinject_finish (qinject *q, char const *env, size_t envlen) ;

#endif
