#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include "qwrite.h"

/* Why threads: each fsync ends with a device flush, and one thread's
   fsyncs flush one after the other; fsyncs in flight together share
   flushes (the block layer merges them), which is what makes a group
   commit cheaper per message than one queue-inject per message. The
   threads are made once and kept: a thread start per round cost more
   CPU than the round's own work (bench/README.md). */
struct job
{
  int const *fds ;
  int *errs ;
  unsigned int n ;
  unsigned int next ;
} ;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER ;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER ;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER ;
static struct job *cur ;
static unsigned int started ;  /* threads made so far */
static unsigned int tickets ;  /* threads asked to help, not yet started on it */
static unsigned int pending ;  /* threads asked to help, not yet finished */

static void run (struct job *j)
{
  for (;;)
  {
    unsigned int i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED) ;
    if (i >= j->n) break ;
    j->errs[i] = fsync(j->fds[i]) < 0 ? errno : 0 ;
  }
}

static void *worker (void *p)
{
  (void)p ;
  pthread_mutex_lock(&lock) ;
  for (;;)
  {
    struct job *j ;
    while (!tickets) pthread_cond_wait(&go, &lock) ;
    tickets-- ;
    j = cur ;
    pthread_mutex_unlock(&lock) ;
    run(j) ;
    pthread_mutex_lock(&lock) ;
    if (!--pending) pthread_cond_signal(&done) ;
  }
  return 0 ;
}

/* The caller's thread works too; it returns only once every helper it
   asked for has finished, so none touches the job afterwards. */
void qwrite_syncall (int const *fds, int *errs, unsigned int n, unsigned int par)
{
  struct job j = { .fds = fds, .errs = errs, .n = n, .next = 0 } ;
  if (par > QWRITE_SYNC_MAX) par = QWRITE_SYNC_MAX ;
  if (par > n) par = n ;
  if (par <= 1) { run(&j) ; return ; }
  pthread_mutex_lock(&lock) ;
  while (started + 1 < par)
  {
    pthread_t t ;
    pthread_attr_t a ;
    /* a thread that cannot start leaves its share to the others */
    if (pthread_attr_init(&a)) break ;
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) ;
    /* fsync needs little stack */
    pthread_attr_setstacksize(&a, 65536) ;
    if (pthread_create(&t, &a, &worker, 0)) { pthread_attr_destroy(&a) ; break ; }
    pthread_attr_destroy(&a) ;
    started++ ;
  }
  cur = &j ;
  tickets = pending = par - 1 < started ? par - 1 : started ;
  for (unsigned int i = 0 ; i < tickets ; i++) pthread_cond_signal(&go) ;
  pthread_mutex_unlock(&lock) ;
  run(&j) ;
  pthread_mutex_lock(&lock) ;
  while (pending) pthread_cond_wait(&done, &lock) ;
  pthread_mutex_unlock(&lock) ;
}
