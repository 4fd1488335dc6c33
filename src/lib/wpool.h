#ifndef POSTERN_WPOOL_H
#define POSTERN_WPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>

/* A table of long-lived worker children, each reached over its own
   unix socketpair (SOCK_SEQPACKET: one message is one job), shared by
   smtpd-listen (smtpd workers, one session at a time) and lspawn (a
   local -w per account, several deliveries in hand). The owner decides
   what a job is and what a worker serves (its key); this starts, finds,
   counts, marks and forgets workers. A worker sees its end of the pair
   as fds 0 and 1; EOF there means "exit". */
/* the largest job message: smtpd-listen's session variables (the
   rule's and its own) */
#define WPOOL_MSG_MAX 4096

typedef struct wpool_worker_s wpool_worker, *wpool_worker_ref ;
struct wpool_worker_s
{
  pid_t pid ;              /* 0: free slot */
  int fd ;                 /* our end; -1 once closed (the worker is ending) */
  unsigned int busy ;      /* jobs handed to it and not done yet */
  unsigned long served ;   /* jobs handed to it over its life */
  tain idle ;              /* when it last became idle */
  uint64_t key ;           /* what it serves (an account...); 0 if any */
} ;

typedef struct wpool_s wpool, *wpool_ref ;
struct wpool_s
{
  wpool_worker *w ;        /* the caller's array of max slots */
  unsigned int max ;
  unsigned long uses ;     /* jobs a worker is handed over its life */
} ;

/* Runs in the child after fds 0 and 1 became the worker's end, its
   signal mask emptied and SIGPIPE reset, just before the exec. The
   child is made with vfork and shares the owner's memory until it
   execs: the hook makes system calls only (set*id as raw syscalls,
   which change the calling task alone; glibc's wrappers would signal
   other threads), writes to no memory but its own stack, never uses a
   buffer or strerr. Returns 0 with errno to make the child exit 111;
   may also _exit itself. */
typedef int wpool_child_func (void *data) ;

/* what a worker runs: path, with argv (argv[0] as ps shows it) and envp */
typedef struct wpool_prog_s wpool_prog, *wpool_prog_ref ;
struct wpool_prog_s
{
  char const *path ;
  char const *const *argv ;
  char const *const *envp ;
  wpool_child_func *child ;  /* 0: none */
  void *data ;
} ;

/* every slot free; a worker is handed at most uses jobs */
extern void wpool_init (wpool *p, wpool_worker *storage, unsigned int max, unsigned long uses) ;
/* starts a worker for key (vfork, see wpool_child_func), fd 0 and 1
   its end (blocking; ours is not). Returns the slot, or -1 with errno
   (EBUSY: no free slot; otherwise a worker may have been started and
   its slot stays taken, retired, until it is reaped). The worker
   starts idle. If the exec fails, the child says so on fd 2 and exits
   127 (ENOENT) or 126. */
extern int wpool_spawn (wpool *p, uint64_t key, wpool_prog const *prog) ;
/* the live worker for key with uses left that holds the fewest jobs;
   of those the one idle the shortest (its pages are the warmest); -1
   if none. An idle worker for key: one picked whose busy is 0. */
extern int wpool_pick (wpool const *p, uint64_t key) ;
/* the idle live worker, of any key, idle the longest; -1 if none */
extern int wpool_oldest (wpool const *p) ;
/* a job was handed to worker i; one of its jobs is done (once idle, it
   is retired if it has no uses left) */
extern void wpool_give (wpool *p, unsigned int i) ;
extern void wpool_done (wpool *p, unsigned int i) ;
/* the slot of pid, or -1 */
extern int wpool_find (wpool const *p, pid_t pid) ;
/* closes our end: the worker ends after its jobs; the slot stays taken
   until wpool_free (after the child is reaped) */
extern void wpool_retire (wpool *p, unsigned int i) ;
extern void wpool_free (wpool *p, unsigned int i) ;
/* retires every worker idle since before limit; returns how many */
extern unsigned int wpool_expire (wpool *p, tain const *limit) ;
/* slots taken, and those busy */
extern unsigned int wpool_count (wpool const *p, unsigned int *busy) ;
/* the ends of live workers to read, at most max: x[k] and tok[k] =
   base + slot; returns how many */
extern unsigned int wpool_fds (wpool const *p, iopause_fd *x, unsigned int *tok, unsigned int base, unsigned int max) ;

/* one message of len bytes with the descriptor pass (-1: none) on the
   socket fd; returns 1, or 0 with errno */
extern int wpool_sendfd (int fd, int pass, char const *s, size_t len) ;
/* receives one message of at most max bytes and the descriptor it
   carries (*pass = -1 if none, close-on-exec if any); flags as
   recvmsg's (MSG_DONTWAIT); returns its length, 0 at EOF, -1 with
   errno (EMSGSIZE: cut, the descriptor closed) */
extern ssize_t wpool_recvfd (int fd, int *pass, char *s, size_t max, int flags) ;

#endif
