/* qinject-loop: load generator for the qinject client (smtpd's way into
   the queue). c processes, each queueing its share of N messages one
   after the other through qinject_start/qinject_write/qinject_finish:
   through queue-writer when its socket answers, by running queue-inject
   otherwise. POSTERN_HOME picks the home. Writes one line on fd 1
   ("messages N ms T failedprocs F cpums C": C is the CPU of every
   process it started, queue-injects included, not a writer's);
   exit 111 if a message failed, 100 on usage. */

#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "qinject.h"

#define USAGE "qinject-loop [ -c concurrency ] [ -s size ] N"
#define CONC_MAX 1024
#define SIZE_MAX_ 1000000
#define SIZE_DEFAULT 4096

static char msg[SIZE_MAX_] ;
static char const env[] = "Fbench@example.test\0Trcpt@example.test\0" ;

static int one (size_t size)
{
  qinject q ;
  int code ;
  if (!qinject_start(&q, -1, -1)) return -1 ;
  if (qinject_write(&q, msg, size) < size) { qinject_finish(&q, 0, 0) ; return -1 ; }
  code = qinject_finish(&q, env, sizeof env) ;
  return code ;
}

int main (int argc, char const *const *argv)
{
  unsigned int conc = 1, size = SIZE_DEFAULT, n, bad = 0 ;
  struct timespec t0, t1 ;
  PROG = "qinject-loop" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    int opt ;
    while ((opt = subgetopt_r(argc, argv, "c:s:", &l)) != -1)
    {
      if (opt == 'c' && uint0_scan(l.arg, &conc) && conc && conc <= CONC_MAX) continue ;
      if (opt == 's' && uint0_scan(l.arg, &size) && size >= 64 && size <= SIZE_MAX_) continue ;
      strerr_dieusage(100, USAGE) ;
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc != 1 || !uint0_scan(argv[0], &n)) strerr_dieusage(100, USAGE) ;
  {
    static char const head[] = "From: bench@example.test\nSubject: bench\n\n" ;
    for (unsigned int i = 0 ; i < size ; i++) msg[i] = i % 72 == 71 ? '\n' : 'a' + i % 26 ;
    for (unsigned int i = 0 ; i < sizeof head - 1 ; i++) msg[i] = head[i] ;
    msg[size - 1] = '\n' ;
  }
  clock_gettime(CLOCK_MONOTONIC, &t0) ;
  for (unsigned int k = 0 ; k < conc ; k++)
  {
    pid_t pid = fork() ;
    if (pid < 0) strerr_diefu1sys(111, "fork") ;
    if (!pid)
    {
      unsigned int mine = n / conc + (k < n % conc), fails = 0 ;
      for (unsigned int i = 0 ; i < mine ; i++) if (one(size)) fails++ ;
      _exit(fails ? 111 : 0) ;
    }
  }
  for (unsigned int k = 0 ; k < conc ; k++)
  {
    int wstat ;
    if (wait(&wstat) < 0) strerr_diefu1sys(111, "wait") ;
    if (!WIFEXITED(wstat) || WEXITSTATUS(wstat)) bad++ ;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1) ;
  {
    char fmt[ULONG_FMT] ;
    unsigned long ms = (unsigned long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000) ;
    buffer_puts(buffer_1, "messages ") ;
    buffer_put(buffer_1, fmt, uint_fmt(fmt, n)) ;
    buffer_puts(buffer_1, " ms ") ;
    buffer_put(buffer_1, fmt, ulong_fmt(fmt, ms ? ms : 1)) ;
    buffer_puts(buffer_1, " failedprocs ") ;
    buffer_put(buffer_1, fmt, uint_fmt(fmt, bad)) ;
    {
      struct rusage ru ;
      unsigned long cpu = 0 ;
      if (!getrusage(RUSAGE_CHILDREN, &ru))
        cpu = (unsigned long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000
            + (unsigned long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000 ;
      buffer_puts(buffer_1, " cpums ") ;
      buffer_put(buffer_1, fmt, ulong_fmt(fmt, cpu)) ;
    }
    buffer_putsflush(buffer_1, "\n") ;
  }
  return bad ? 111 : 0 ;
}
