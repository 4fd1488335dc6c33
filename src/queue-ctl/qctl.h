#ifndef QCTL_H
#define QCTL_H

#include <skalibs/stralloc.h>
#include "qread.h"

/* what to do: postsuper -d, -h, -H, postqueue -i */
enum qctl_action { QCTL_REMOVE = 'd', QCTL_HOLD = 'h', QCTL_RELEASE = 'H', QCTL_RETRY = 'r' } ;

struct qctl_opts
{
  char action ;
  int all ;                 /* -a */
  char const *any ;         /* -s: sender or a recipient contains */
  char const *from ;        /* -f: the sender contains */
  char const *to ;          /* -t: a recipient contains */
  char const *domain ;      /* -D: a recipient still to deliver is at */
  char const *const *ids ;  /* operands */
  unsigned int nids ;
} ;

/* qctl_select.c: the ids to act on into sel, NUL-terminated each;
   returns how many ids given as operands are not in the queue */
extern unsigned int qctl_select (struct qctl_opts const *o, stralloc *sel) ;
/* 1 if m passes every filter of o */
extern int qctl_match (struct qctl_opts const *o, qread_msg const *m) ;

/* qctl_mark.c: the hold markers (queue/hold/N/ID) of the ids in sel,
   made (hold) or removed (release), each directory fsynced once; and
   the markers whose message has left the queue, removed */
extern void qctl_mark (stralloc const *sel, int hold) ;
extern void qctl_mark_sweep (void) ;

/* qctl_request.c: the requests to send over the queue/ops FIFO:
   1 sent, 0 send is not running (nobody reads the FIFO) */
extern int qctl_request (char action, stralloc const *sel) ;

#endif
