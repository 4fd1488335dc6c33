/* cyclog: postern's logger, run by a service's log/run as the log
   account. Reads lines on fd 0, writes them with a TAI64N stamp to
   dir/current, rotates current by size into @<tai64n>.s files and keeps
   the newest. Warnings on fd 2. Exits 0 at EOF or SIGTERM once all it
   read is written and fsynced; SIGALRM rotates. cyclog(8). */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/alloc.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/error.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "cyclog.h"

/* bytes read between two looks at the signal pipe; after SIGTERM, what
   is left in a pipe is read up to this much (Linux's pipe-max-size) */
#define CYCLOG_BATCH 1048576

struct cyclog_s cyclog_state = { .fd = -1, .out = BUFFER_ZERO } ;

static char const *parse (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  uint64_t linemax = 0 ;
  cyclog_state.smax = CYCLOG_SIZE_DEFAULT ;
  cyclog_state.nmax = CYCLOG_COUNT_DEFAULT ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "hs:n:l:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'h' :
        if (!buffer_putsflush(buffer_1, "usage: " CYCLOG_USAGE "\n")) strerr_diefu1sys(111, "write to stdout") ;
        _exit(0) ;
      case 's' :
        if (!uint640_scan(l.arg, &cyclog_state.smax) || cyclog_state.smax < CYCLOG_SIZE_MIN)
          strerr_dief1x(100, "-s: a number of bytes, at least 4096") ;
        break ;
      case 'n' :
        if (!uint0_scan(l.arg, &cyclog_state.nmax) || cyclog_state.nmax > CYCLOG_COUNT_MAX)
          strerr_dief1x(100, "-n: a number of files, at most 100000") ;
        break ;
      case 'l' :
        if (!uint640_scan(l.arg, &linemax) || !linemax || linemax > CYCLOG_LINE_MAX)
          strerr_dief1x(100, "-l: a number of bytes, from 1 to 1048576") ;
        break ;
      default : strerr_dieusage(100, CYCLOG_USAGE) ;
    }
  }
  if (argc - l.ind != 1 || !argv[l.ind][0]) strerr_dieusage(100, CYCLOG_USAGE) ;
  /* a record (stamp, line, marker, newline) must fit in an empty current */
  if (linemax > cyclog_state.smax - CYCLOG_OVERHEAD) strerr_dief1x(100, "-l: at most -s minus 30") ;
  if (!linemax)
    linemax = cyclog_state.smax - CYCLOG_OVERHEAD < CYCLOG_LINE_DEFAULT ? cyclog_state.smax - CYCLOG_OVERHEAD : CYCLOG_LINE_DEFAULT ;
  cyclog_state.linemax = linemax ;
  return argv[l.ind] ;
}

/* held until exit: a second cyclog on the same directory fails at once */
static void lock (char const *dir)
{
  int r ;
  int fd = open3("lock", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) ;
  if (fd < 0) strerr_diefu3sys(111, "open ", dir, "/lock") ;
  r = fd_lock(fd, 1, 1) ;
  if (r < 0) strerr_diefu3sys(111, "lock ", dir, "/lock") ;
  if (!r) strerr_dief3x(111, dir, "/lock is held: another cyclog is writing ", dir) ;
}

static void start (char const *dir)
{
  size_t outlen = CYCLOG_OUT + cyclog_state.linemax + CYCLOG_OVERHEAD ;
  char *out ;
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) strerr_diefu2sys(111, "create ", dir) ;
  if (chdir(dir) < 0) strerr_diefu2sys(111, "chdir to ", dir) ;
  lock(dir) ;
  cyclog_state.part = alloc(cyclog_state.linemax) ;
  /* a cbuffer holds one byte less than its storage */
  out = alloc(outlen + 1) ;
  if (!cyclog_state.part || !out) strerr_diefu1sys(111, "allocate") ;
  if (!buffer_init(&cyclog_state.out, &buffer_write, -1, out, outlen + 1)) strerr_diefu1sys(111, "set up a buffer") ;
  cyclog_state.stamp[TIMESTAMP] = ' ' ;
  cyclog_rotate_init() ;
  if (cyclog_open() < 0) strerr_diefu3sys(111, "open ", dir, "/current") ;
  if (ndelay_on(0) < 0) strerr_diefu1sys(111, "make stdin non-blocking") ;
  /* a closed stderr must not kill the logger */
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
}

/* Reads what fd 0 has now. 0: more may come; 1: end of file; 2: error */
static int input (void)
{
  static char in[CYCLOG_IN] ;
  size_t total = 0 ;
  while (total < CYCLOG_BATCH)
  {
    ssize_t r = fd_read(0, in, sizeof in) ;
    if (r < 0)
    {
      if (error_isagain(errno)) return 0 ;
      strerr_warnwu1sys("read stdin") ;
      return 2 ;
    }
    if (!r) return 1 ;
    tain_now_g() ;
    timestamp_g(cyclog_state.stamp) ;
    cyclog_lines(in, (size_t)r) ;
    total += (size_t)r ;
  }
  return 0 ;
}

int main (int argc, char const *const *argv)
{
  iopause_fd x[2] ;
  int term = 0, end = 0 ;
  PROG = "cyclog" ;
  start(parse(argc, argv)) ;
  x[0].fd = selfpipe_init() ;
  if (x[0].fd < 0 || !selfpipe_trap(SIGTERM) || !selfpipe_trap(SIGHUP) || !selfpipe_trap(SIGALRM))
    strerr_diefu1sys(111, "set up the selfpipe") ;
  x[0].events = x[1].events = IOPAUSE_READ ;
  x[1].fd = 0 ;
  while (!end && !term)
  {
    if (iopause_g(x, 2, 0) < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(111, "iopause") ;
    }
    if (x[0].revents & IOPAUSE_READ)
      for (;;)
      {
        int s = selfpipe_read() ;
        if (s < 0) strerr_diefu1sys(111, "read the selfpipe") ;
        if (!s) break ;
        if (s == SIGTERM || s == SIGHUP) term = 1 ;
        /* multilog's and s6-log's "rotate now" */
        else if (s == SIGALRM && cyclog_state.cursize) cyclog_rotate() ;
      }
    /* on SIGTERM, what the writer already put in the pipe is read too */
    if (term || x[1].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) end = input() ;
    cyclog_flush() ;
    cyclog_report_cuts() ;
  }
  /* an unfinished line at the end is written with a newline */
  if (cyclog_state.partlen) cyclog_record("", 0, 0) ;
  cyclog_sync() ;
  return end == 2 ? 111 : 0 ;
}
