#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "cyclog.h"
#include "fsx.h"

/* Opens current for appending; a current left by an earlier run is
   kept. Returns 0, or -1 with errno. */
int cyclog_open (void)
{
  struct stat st ;
  int fd = open3("current", O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644) ;
  if (fd < 0) return -1 ;
  if (fstat(fd, &st) < 0) goto err ;
  cyclog_state.fd = cyclog_state.out.fd = fd ;
  cyclog_state.cursize = (uint64_t)st.st_size ;
  if (st.st_size)
  {
    char c ;
    /* a crash can leave half a line: ours must not be glued to it */
    if (pread(fd, &c, 1, st.st_size - 1) != 1) goto err ;
    if (c != '\n')
    {
      buffer_putnoflush(&cyclog_state.out, "\n", 1) ;
      cyclog_state.cursize++ ;
    }
  }
  return 0 ;
 err:
  fd_close(fd) ;
  return -1 ;
}

/* Nothing is ever dropped: an error (a full disk, a quota) is reported,
   then the same step is tried again CYCLOG_RETRY seconds later, forever. */
void cyclog_wait (char const *what, unsigned int *tries)
{
  tain deadline ;
  if (!(*tries % CYCLOG_REPORT))
    strerr_warnwu2sys(what, ", retrying every second") ;
  (*tries)++ ;
  tain_now_g() ;
  tain_addsec_g(&deadline, CYCLOG_RETRY) ;
  while (tain_future(&deadline))
    if (iopause_g(0, 0, &deadline) < 0 && errno != EINTR) break ;
}

void cyclog_flush (void)
{
  char fmt[UINT_FMT] ;
  unsigned int tries = 0 ;
  while (!buffer_flush(&cyclog_state.out)) cyclog_wait("write to current", &tries) ;
  if (!tries) return ;
  fmt[uint_fmt(fmt, tries)] = 0 ;
  strerr_warni3x("write to current succeeded after ", fmt, " retries") ;
}

/* At exit: what we say is written must survive a crash, current's
   name (new since the last rotation) included. */
void cyclog_sync (void)
{
  unsigned int tries = 0 ;
  cyclog_flush() ;
  while (fd_sync(cyclog_state.fd) < 0) cyclog_wait("fsync current", &tries) ;
  while (fsx_syncdir(".") < 0) cyclog_wait("fsync the log directory", &tries) ;
}

void cyclog_report_cuts (void)
{
  char a[UINT64_FMT], b[UINT64_FMT], c[SIZE_FMT] ;
  if (cyclog_state.cuts == cyclog_state.cutsreported) return ;
  a[uint64_fmt(a, cyclog_state.cuts - cyclog_state.cutsreported)] = 0 ;
  b[uint64_fmt(b, cyclog_state.cuts)] = 0 ;
  c[size_fmt(c, cyclog_state.linemax)] = 0 ;
  strerr_warnw7x("cut ", a, " lines longer than ", c, " bytes (", b, " since start)") ;
  cyclog_state.cutsreported = cyclog_state.cuts ;
}
