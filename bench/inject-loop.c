/* inject-loop: load generator for queue-inject. Runs program N times, at
   most c at once; each run gets the same message on fd 0 and envelope on
   fd 1, fresh read-only opens of two memfds, so no two runs share an
   offset. Writes one line of throughput on fd 1; exit 111 if any run
   failed or could not be started, 100 on usage. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#define USAGE "inject-loop [ -c concurrency ] [ -s size ] N program"

/* beyond this many children we measure the scheduler, not the queue */
#define CONC_MAX 1024
/* bytes: queue-inject's default databytes (Postfix's message_size_limit);
   a bigger message would be refused, not measured */
#define MSG_BYTES_MAX 10240000
/* runs: 10^9 is days of fsyncs; keeps N * 10^9 (msg/s) inside 64 bits */
#define RUNS_MAX 1000000000UL
#define SIZE_DEFAULT 4096
/* a body line: 71 characters and LF */
#define LINE_LEN 72
/* "/proc/self/fd/" and an int */
#define FDPATH_MAX 32

static char const head[] =
  "From: bench@example.test\n"
  "To: demo@example.test\n"
  "Subject: postern bench\n"
  "Message-ID: <inject-loop@example.test>\n"
  "\n" ;

static char const envelope[] = "Fbench@example.test\0Tdemo@example.test\0" ;

extern char **environ ;

static void put (int fd, char const *s, size_t len)
{
  if (allwrite(fd, s, len) < len) strerr_diefu1sys(111, "write to memfd") ;
}

/* size bytes: the header lines (cut if size is smaller), then body
   lines; the last line is shortened to end exactly at size, with LF */
static void fill_message (int fd, size_t size)
{
  char line[LINE_LEN] ;
  size_t n = sizeof head - 1 < size ? sizeof head - 1 : size ;
  put(fd, head, n) ;
  size -= n ;
  for (unsigned int i = 0 ; i < LINE_LEN - 1 ; i++) line[i] = 'a' + i % 26 ;
  line[LINE_LEN - 1] = '\n' ;
  while (size)
  {
    n = size < LINE_LEN ? size : LINE_LEN ;
    if (n < LINE_LEN) line[n - 1] = '\n' ;
    put(fd, line, n) ;
    size -= n ;
  }
}

/* a memfd holding s; its /proc path into path (FDPATH_MAX bytes), which
   each child opens for itself and so reads from offset 0 */
static void make_input (char *path, char const *name, char const *s, size_t len, size_t msgsize)
{
  int fd = memfd_create(name, MFD_CLOEXEC) ;
  int probe ;
  if (fd < 0) strerr_diefu2sys(111, "create memfd ", name) ;
  if (s) put(fd, s, len) ;
  else fill_message(fd, msgsize) ;
  memcpy(path, "/proc/self/fd/", 14) ;
  path[14 + uint_fmt(path + 14, (unsigned int)fd)] = 0 ;
  probe = open(path, O_RDONLY | O_CLOEXEC) ;
  if (probe < 0) strerr_diefu2sys(111, "reopen ", path) ;
  fd_close(probe) ;
}

static unsigned long long now_ns (void)
{
  struct timespec ts ;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) strerr_diefu1sys(111, "read the clock") ;
  return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec ;
}

static void report_failure (int wstat)
{
  char fmt[UINT_FMT] ;
  int sig = WIFSIGNALED(wstat) ;
  fmt[uint_fmt(fmt, (unsigned int)(sig ? WTERMSIG(wstat) : WEXITSTATUS(wstat)))] = 0 ;
  strerr_warnw3x("first failed run: ", sig ? "killed by signal " : "exit code ", fmt) ;
}

static void print_result (unsigned long n, unsigned int c, unsigned long long ns, unsigned long failed)
{
  char s[4 * UINT64_FMT + 64] ;
  size_t len = 0 ;
  unsigned long long cs = (ns + 5000000ULL) / 10000000ULL ;
  if (!ns) ns = 1 ;
  len += ulong_fmt(s + len, n) ;
  memcpy(s + len, " messages, ", 11) ; len += 11 ;
  len += uint_fmt(s + len, c) ;
  memcpy(s + len, " concurrency, ", 14) ; len += 14 ;
  len += uint64_fmt(s + len, cs / 100) ;
  s[len++] = '.' ;
  s[len++] = '0' + cs % 100 / 10 ;
  s[len++] = '0' + cs % 10 ;
  memcpy(s + len, " s, ", 4) ; len += 4 ;
  len += uint64_fmt(s + len, ((unsigned long long)n * 1000000000ULL + ns / 2) / ns) ;
  memcpy(s + len, " msg/s, ", 8) ; len += 8 ;
  len += ulong_fmt(s + len, failed) ;
  memcpy(s + len, " failed\n", 8) ; len += 8 ;
  if (buffer_putflush(buffer_1, s, len) < 0) strerr_diefu1sys(111, "write to stdout") ;
}

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  unsigned int c = 1, size = SIZE_DEFAULT ;
  unsigned long n, started = 0, done = 0, failed = 0 ;
  unsigned int running = 0 ;
  char msgpath[FDPATH_MAX], envpath[FDPATH_MAX] ;
  posix_spawn_file_actions_t fa ;
  unsigned long long t0 ;
  int e ;
  pid_t ppid = getppid() ;
  PROG = "inject-loop" ;
  /* outliving our starter (a stopped bench script, strace) we would keep
     spawning into a home its cleanup removes */
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) strerr_diefu1sys(111, "set parent death signal") ;
  if (getppid() != ppid) strerr_dief1x(111, "parent exited") ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "c:s:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'c' : if (!uint0_scan(l.arg, &c) || !c || c > CONC_MAX) strerr_dieusage(100, USAGE) ; break ;
      case 's' : if (!uint0_scan(l.arg, &size) || size > MSG_BYTES_MAX) strerr_dieusage(100, USAGE) ; break ;
      default : strerr_dieusage(100, USAGE) ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  if (argc != 2 || !ulong0_scan(argv[0], &n) || !n || n > RUNS_MAX) strerr_dieusage(100, USAGE) ;

  make_input(msgpath, "inject-loop-message", 0, 0, size) ;
  make_input(envpath, "inject-loop-envelope", envelope, sizeof envelope, 0) ;
  e = posix_spawn_file_actions_init(&fa) ;
  if (!e) e = posix_spawn_file_actions_addopen(&fa, 0, msgpath, O_RDONLY, 0) ;
  if (!e) e = posix_spawn_file_actions_addopen(&fa, 1, envpath, O_RDONLY, 0) ;
  if (e) { errno = e ; strerr_diefu1sys(111, "set up spawn file actions") ; }

  t0 = now_ns() ;
  while (done < n)
  {
    int wstat ;
    pid_t pid ;
    while (running < c && started < n)
    {
      char *const args[2] = { (char *)argv[1], 0 } ;
      e = posix_spawn(&pid, argv[1], &fa, 0, args, environ) ;
      if (e) { errno = e ; strerr_diefu2sys(111, "spawn ", argv[1]) ; }
      running++ ; started++ ;
    }
    pid = wait(&wstat) ;
    if (pid < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(111, "wait") ;
    }
    running-- ; done++ ;
    if (!WIFEXITED(wstat) || WEXITSTATUS(wstat))
    {
      if (!failed) report_failure(wstat) ;
      failed++ ;
    }
  }
  print_result(n, c, now_ns() - t0, failed) ;
  posix_spawn_file_actions_destroy(&fa) ;
  return failed ? 111 : 0 ;
}
