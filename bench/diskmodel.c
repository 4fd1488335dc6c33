/* diskmodel.c: a modelled disk's flush latency, linked into the
   programs of `make diskmodel` (build/diskmodel/bin) with
   -Wl,--wrap=fsync,--wrap=fdatasync,--wrap=syncfs, for
   bench/queue-disks.py. Bench only: never in build/bin.

   This VM's kernel has no device-mapper (no dm-delay), and our programs
   are static (no LD_PRELOAD), so the latency is put in at link time.
   DISKMODEL_DIR/devices lists the modelled devices, read once per
   process, one "major:minor delay_us" a line (at most DEVICES_MAX). A
   sync call on a file of such a device (fstat's st_dev):
     - opens DISKMODEL_DIR/lock.major:minor and takes an OFD write lock
       on it (F_OFD_SETLKW: threads and processes alike wait their turn:
       the disk does one flush at a time),
     - does the real call, then sleeps until delay_us have passed since
       it began (a flush takes delay_us, or the real call's time if
       that is longer),
     - adds one to its counter in the lock file (below) and the time it
       held the disk to busy_us, unlocks.
   So a device flushes at most 1e6/delay_us times a second, whoever
   asks. Any other file, or no devices file: the real call alone.

   The lock file holds COUNTERS native 64-bit counters: fsync,
   fdatasync, syncfs, busy_us. bench/queue-disks.py makes the
   directory, the lock files (mode 0666: every account of an instance
   flushes) and reads them. */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#ifndef DISKMODEL_DIR
#define DISKMODEL_DIR "/run/postern-diskmodel"
#endif
#define DEVICES_MAX 16
#define FILE_MAX 4096
#define COUNTERS 4
#define C_BUSY 3

int __real_fsync (int) ;
int __real_fdatasync (int) ;
int __real_syncfs (int) ;
int __wrap_fsync (int) ;
int __wrap_fdatasync (int) ;
int __wrap_syncfs (int) ;

struct device { unsigned int major, minor ; unsigned long delay_us ; } ;
static struct device devices[DEVICES_MAX] ;
static unsigned int ndevices ;
static pthread_once_t once = PTHREAD_ONCE_INIT ;

static char const *number (char const *s, unsigned long *v)
{
  char const *p = s ;
  *v = 0 ;
  while (*p >= '0' && *p <= '9') *v = *v * 10 + (unsigned long)(*p++ - '0') ;
  return p == s ? 0 : p ;
}

/* "major:minor delay_us" lines; a malformed line is skipped */
static void load (void)
{
  char buf[FILE_MAX] ;
  size_t len = 0 ;
  char const *p ;
  int fd = open(DISKMODEL_DIR "/devices", O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) return ;
  for (;;)
  {
    ssize_t r = read(fd, buf + len, sizeof buf - 1 - len) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r <= 0) break ;
    len += (size_t)r ;
    if (len == sizeof buf - 1) break ;
  }
  close(fd) ;
  buf[len] = 0 ;
  for (p = buf ; *p && ndevices < DEVICES_MAX ; )
  {
    unsigned long ma, mi, d ;
    char const *q = number(p, &ma) ;
    if (q && *q == ':' && (q = number(q + 1, &mi)) && *q == ' ' && (q = number(q + 1, &d))
        && (*q == '\n' || !*q))
    {
      devices[ndevices].major = (unsigned int)ma ;
      devices[ndevices].minor = (unsigned int)mi ;
      devices[ndevices++].delay_us = d ;
    }
    while (*p && *p != '\n') p++ ;
    if (*p) p++ ;
  }
}

static struct device const *modelled (int fd)
{
  struct stat st ;
  pthread_once(&once, &load) ;
  if (!ndevices || fstat(fd, &st) < 0) return 0 ;
  for (unsigned int i = 0 ; i < ndevices ; i++)
    if (devices[i].major == major(st.st_dev) && devices[i].minor == minor(st.st_dev))
      return devices + i ;
  return 0 ;
}

static unsigned char fmt_u (char *s, unsigned long v)
{
  char t[20] ;
  unsigned char n = 0, i ;
  do t[n++] = (char)('0' + v % 10) ; while (v /= 10) ;
  for (i = 0 ; i < n ; i++) s[i] = t[n - 1 - i] ;
  return n ;
}

static int lockfd (struct device const *d)
{
  char path[sizeof DISKMODEL_DIR + 48] = DISKMODEL_DIR "/lock." ;
  size_t n = sizeof DISKMODEL_DIR - 1 + 6 ;
  struct flock fl ;
  int fd ;
  n += fmt_u(path + n, d->major) ;
  path[n++] = ':' ;
  n += fmt_u(path + n, d->minor) ;
  path[n] = 0 ;
  fd = open(path, O_RDWR | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  memset(&fl, 0, sizeof fl) ;
  fl.l_type = F_WRLCK ;
  fl.l_whence = SEEK_SET ;
  while (fcntl(fd, F_OFD_SETLKW, &fl) < 0)
    if (errno != EINTR) { close(fd) ; return -1 ; }
  return fd ;
}

static uint64_t now_us (void)
{
  struct timespec t ;
  clock_gettime(CLOCK_MONOTONIC, &t) ;
  return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000 ;
}

/* the real call, as the modelled disk does it; a lock file that cannot
   be had leaves the real call alone (the bench sees no count) */
static int flush (int fd, int (*real) (int), unsigned int which)
{
  struct device const *d = modelled(fd) ;
  uint64_t c[COUNTERS], t0, t ;
  struct timespec ts ;
  int lfd, r, e ;
  if (!d) return (*real)(fd) ;
  lfd = lockfd(d) ;
  if (lfd < 0) return (*real)(fd) ;
  t0 = now_us() ;
  r = (*real)(fd) ;
  e = errno ;
  t = now_us() - t0 ;
  if (t < d->delay_us)
  {
    ts.tv_sec = (time_t)((d->delay_us - t) / 1000000) ;
    ts.tv_nsec = (long)((d->delay_us - t) % 1000000) * 1000 ;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ;
  }
  if (pread(lfd, c, sizeof c, 0) != (ssize_t)sizeof c) memset(c, 0, sizeof c) ;
  c[which]++ ;
  c[C_BUSY] += now_us() - t0 ;
  if (pwrite(lfd, c, sizeof c, 0) < 0) {}
  /* unlocked before the close: a fork meanwhile may hold a copy */
  {
    struct flock fl ;
    memset(&fl, 0, sizeof fl) ;
    fl.l_type = F_UNLCK ;
    fl.l_whence = SEEK_SET ;
    fcntl(lfd, F_OFD_SETLK, &fl) ;
  }
  close(lfd) ;
  errno = e ;
  return r ;
}

int __wrap_fsync (int fd) { return flush(fd, &__real_fsync, 0) ; }
int __wrap_fdatasync (int fd) { return flush(fd, &__real_fdatasync, 1) ; }
int __wrap_syncfs (int fd) { return flush(fd, &__real_syncfs, 2) ; }
