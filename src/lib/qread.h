#ifndef POSTERN_QREAD_H
#define POSTERN_QREAD_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include "envelope.h"
#include "queue.h"
#include "route.h"
#include "state.h"

/* Reading the queue from outside send, as the operator tools do
   (queue-list(8), queue-stats(8)): no lock is taken and each file is
   read once, so send never waits; a file caught half rewritten or gone
   since its name was read is retried once, then skipped. */

/* messages one run looks at: ids are held in memory (about 40 bytes
   each) to be sorted; past this the rest is left out, with a warning */
#define QREAD_MSG_MAX 10000000
/* a todo file: the envelope and queue-inject's u and p info fields
   (record(8) reads it with the same bound) */
#define QREAD_TODO_MAX (ENV_BYTES_MAX + 64)
/* send(8)'s default for control/slowafter (send_config.c) */
#define QREAD_SLOWAFTER_DEFAULT 1800

/* a recipient of a message still in queue/todo */
#define QREAD_UNSORTED 'U'
/* its channel when the routing tables cannot be read */
#define QREAD_CH_UNKNOWN '?'

typedef struct qread_msg_s qread_msg, *qread_msg_ref ;
struct qread_msg_s
{
  char const *id ;
  uint32_t birth ;        /* injection time, from the id */
  unsigned long size ;    /* bytes of the body; 0 if it has none */
  int unsorted ;          /* 1: read from queue/todo */
  char const *sender ;    /* NUL-terminated, "" for a bounce */
  unsigned int nrcpts ;
  char const *s ;         /* the file as read (the caller's stralloc) */
  char path[QUEUE_PATH_MAX] ; /* the last file opened, for messages */
  state_msg st ;          /* sorted */
  env_view env ;          /* unsorted */
} ;

typedef struct qread_rcpt_s qread_rcpt, *qread_rcpt_ref ;
struct qread_rcpt_s
{
  char const *addr ;      /* NUL-terminated */
  char status ;           /* ST_* of state.h, or QREAD_UNSORTED */
  char channel ;          /* CH_LOCAL, CH_REMOTE or QREAD_CH_UNKNOWN */
  unsigned int attempts ;
  uint32_t lasttry ;
  char const *result ;    /* the last result, padding cut, not NUL-terminated */
  size_t resultlen ;      /* at most STATE_RESULT_MAX */
} ;

/* 1 if the real uid may read the queue: root, the queue owner of
   conf-users, or whoever owns the home's queue/ (cwd is the home) */
extern int qread_allowed (void) ;
/* control/slowafter (cwd is the home) into *u; -1 with errno on error */
extern int qread_slowafter (unsigned long *u) ;
/* the lane send puts a waiting recipient in (send_sched.c): 1 if slow */
extern int qread_slow (unsigned int attempts, uint32_t birth, uint32_t now, unsigned long slowafter) ;

/* Appends the ids of queue/todo/sub then queue/state/sub to names, each
   NUL-terminated, and their offsets (size_t) to offs: at most max.
   todo is read first: record creates the state before it removes the
   todo entry, so a message sorted meanwhile is in one list or both.
   Returns how many, or -1 with errno. */
extern int qread_ids (stralloc *names, stralloc *offs, unsigned int sub, unsigned int max) ;
/* Sorts offs (offsets into names) by id, which is age order (an id
   starts with its injection time), and drops repeats. */
extern void qread_sort (stralloc const *names, stralloc *offs) ;

/* qread_ids for every subdirectory, then qread_sort: the whole queue,
   oldest first, at most QREAD_MSG_MAX ids (past that a warning); dies
   111 if a directory cannot be read */
extern void qread_all (stralloc *names, stralloc *offs) ;

/* Reads message id: its state file if whole, else its todo file, into
   sa, and fills m. Returns 1; 0 with errno ENOENT if the message is
   gone, EINVAL if its files stay malformed or EFBIG if one is over its
   bound (skip it); -1 with errno on another error, m->path naming the
   file. */
extern int qread_load (qread_msg *m, stralloc *sa, char const *id) ;
/* qread_load for the tools: dies (111) on a read error, warns and
   returns 0 for a message to skip, 1 when m is loaded */
extern int qread_get (qread_msg *m, stralloc *sa, char const *id) ;
/* Parses a todo file (s, len bytes: queue-inject's u and p info
   fields, then the envelope) into m's env, sender and nrcpts. 1 if
   well-formed, else 0. */
extern int qread_todo_parse (qread_msg *m, char const *s, size_t len) ;
/* Next recipient: *pos starts at 0; returns 1 and fills r, 0 at the
   end. An unsorted recipient's channel comes from route_classify(), as
   record(8) will decide it; rt is the caller's, reset per message. */
extern int qread_next_rcpt (qread_msg const *m, size_t *pos, route *rt, qread_rcpt *r) ;

/* 1 if the sender or a recipient of m contains sub, ignoring case
   (queue-list -s, queue-ctl -s) */
extern int qread_match (qread_msg const *m, char const *sub) ;
/* 1 if queue-ctl(8) holds message id: its marker in queue/hold exists */
extern int qread_held (char const *id) ;

/* Appends s (len bytes) to sa with logesc_byte(): outside bytes cannot
   forge a line. 0 on allocation failure. */
extern int qread_catesc (stralloc *sa, char const *s, size_t len) ;

#endif
