#ifndef POSTERN_WPOOL_H
#define POSTERN_WPOOL_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/tai.h>

/* A table of long-lived worker children, each reached over its own
   unix socketpair (SOCK_SEQPACKET: one message is one job). The owner
   (smtpd-listen; lspawn's per-account workers later) decides what a
   job is; this only starts, finds, marks and forgets workers. A worker
   sees its end of the pair as fds 0 and 1; EOF there means "exit". */
/* the largest job message: smtpd-listen's session variables (the
   rule's and its own), lspawn's job */
#define WPOOL_MSG_MAX 4096

typedef struct wpool_worker_s wpool_worker, *wpool_worker_ref ;
struct wpool_worker_s
{
  pid_t pid ;              /* 0: free slot */
  int fd ;                 /* our end; -1 once closed (the worker is ending) */
  int busy ;               /* serving a job */
  unsigned long served ;   /* jobs handed to it */
  tain idle ;              /* when it last became idle */
  unsigned long key ;      /* what it serves (an account...); 0 if any */
} ;

typedef struct wpool_s wpool, *wpool_ref ;
struct wpool_s
{
  wpool_worker *w ;        /* the caller's array of max slots */
  unsigned int max ;
} ;

/* runs in the child between fork and exec (drop privileges, move fds);
   returns 0 with errno to make the child exit 111 */
typedef int wpool_child_func (void *data) ;

/* every slot free */
extern void wpool_init (wpool *p, wpool_worker *storage, unsigned int max) ;
/* starts argv (argv[0] a path) with envp, fd 0 and 1 the new worker's
   end (blocking; ours is not); child (may be 0) runs first in the child.
   Returns the slot, or -1 with errno (EBUSY: no free slot; otherwise a
   worker may have been started and its slot stays taken, retired, until
   it is reaped). The worker starts idle. */
extern int wpool_spawn (wpool *p, unsigned long key, char const *const *argv, char const *const *envp,
  wpool_child_func *child, void *data) ;
/* an idle worker for key, the one idle the shortest (its pages are the
   warmest); -1 if none */
extern int wpool_idle (wpool const *p, unsigned long key) ;
/* the slot of pid, or -1 */
extern int wpool_find (wpool const *p, pid_t pid) ;
/* closes our end: the worker ends after its job; the slot stays taken
   until wpool_free (after the child is reaped) */
extern void wpool_retire (wpool *p, unsigned int i) ;
extern void wpool_free (wpool *p, unsigned int i) ;
/* retires every worker idle since before limit; returns how many */
extern unsigned int wpool_expire (wpool *p, tain const *limit) ;
/* slots taken, and those busy */
extern unsigned int wpool_count (wpool const *p, unsigned int *busy) ;

/* one message of len bytes with the descriptor pass (-1: none) on the
   socket fd; returns 1, or 0 with errno */
extern int wpool_sendfd (int fd, int pass, char const *s, size_t len) ;
/* receives one message of at most max bytes and the descriptor it
   carries (*pass = -1 if none, close-on-exec if any); returns its
   length, 0 at EOF, -1 with errno (EMSGSIZE: cut) */
extern ssize_t wpool_recvfd (int fd, int *pass, char *s, size_t max) ;

#endif
