#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include "qwrite.h"

/* Why threads: each fsync ends with a device flush, and one thread's
   fsyncs flush one after the other; fsyncs in flight together share
   flushes (the block layer merges them), which is what makes a group
   commit cheaper per message than one queue-inject per message. */
struct job
{
  int const *fds ;
  int *errs ;
  unsigned int n ;
  unsigned int next ;
} ;

static void *run (void *p)
{
  struct job *j = p ;
  for (;;)
  {
    unsigned int i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED) ;
    if (i >= j->n) break ;
    j->errs[i] = fsync(j->fds[i]) < 0 ? errno : 0 ;
  }
  return 0 ;
}

void qwrite_syncall (int const *fds, int *errs, unsigned int n, unsigned int par)
{
  struct job j = { .fds = fds, .errs = errs, .n = n, .next = 0 } ;
  pthread_t t[QWRITE_SYNC_MAX] ;
  unsigned int k = 0 ;
  if (par > QWRITE_SYNC_MAX) par = QWRITE_SYNC_MAX ;
  if (par > n) par = n ;
  /* a thread that cannot start leaves its share to the others */
  while (k + 1 < par && !pthread_create(t + k, 0, &run, &j)) k++ ;
  run(&j) ;
  while (k--) pthread_join(t[k], 0) ;
}
