#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "date822.h"
#include "local.h"

/* seconds to wait for another writer's lock before deferring */
#define LOCK_TIMEOUT 30

static void on_alarm (int sig)
{
  (void)sig ;
}

/* "From sender Mon Nov 23 15:33:53 2026\n", asctime's layout in UTC,
   rearranged from "Mon, 23 Nov 2026 15:33:53 +0000" */
static int from_line (stralloc *sa, char const *sender)
{
  char d[DATE822_FMT] ;
  char const *day, *mon, *year, *clock ;
  size_t len0 ;
  date822_fmt(d, time(0)) ;
  day = d + 5 ; mon = strchr(day, ' ') + 1 ; year = strchr(mon, ' ') + 1 ; clock = strchr(year, ' ') + 1 ;
  if (!stralloc_copys(sa, "From ")) return 0 ;
  len0 = sa->len ;
  if (!stralloc_cats(sa, *sender ? sender : "MAILER-DAEMON")) return 0 ;
  /* the From_ line is split on blanks by readers */
  for (size_t i = len0 ; i < sa->len ; i++) if (sa->s[i] == ' ' || sa->s[i] == '\t') sa->s[i] = '_' ;
  return stralloc_catb(sa, " ", 1) && stralloc_catb(sa, d, 3) && stralloc_catb(sa, " ", 1)
    && stralloc_catb(sa, mon, 4) && (mon - day > 2 || stralloc_catb(sa, " ", 1))
    && stralloc_catb(sa, day, mon - day) && stralloc_catb(sa, clock, 8)
    && stralloc_catb(sa, " ", 1) && stralloc_catb(sa, year, clock - 1 - year)
    && stralloc_catb(sa, "\n", 1) ;
}

int local_mbox (local_ctx const *c, char const *path, stralloc *t)
{
  static stralloc pre = STRALLOC_ZERO ;
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET } ;
  struct sigaction sa = { .sa_handler = &on_alarm } ;  /* no SA_RESTART: the alarm interrupts F_SETLKW */
  struct stat st ;
  int fd, r, e ;
  if (!from_line(&pre, c->sender) || !stralloc_catb(&pre, c->lines.s, c->lines.len))
    return local_temp(t, "allocate", "") ;
  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0600) ;
  if (fd < 0) return local_temp(t, "open ", path) ;
  if (sigemptyset(&sa.sa_mask) < 0 || sigaction(SIGALRM, &sa, 0) < 0)
  {
    local_temp(t, "catch SIGALRM", "") ;
    fd_close(fd) ;
    return LOCAL_TEMP ;
  }
  alarm(LOCK_TIMEOUT) ;
  r = fcntl(fd, F_SETLKW, &fl) ;
  e = errno ;
  alarm(0) ;
  if (r < 0)
  {
    errno = e ;
    if (e == EINTR) local_say(t, LOCAL_TEMP, "4.2.0 timed out waiting for the lock on ", path, "") ;
    else local_temp(t, "lock ", path) ;
    fd_close(fd) ;
    return LOCAL_TEMP ;
  }
  /* the size under the lock: everything after it is ours to take back */
  if (fstat(fd, &st) < 0) { local_temp(t, "stat ", path) ; fd_close(fd) ; return LOCAL_TEMP ; }
  if (local_copy(fd, pre.s, pre.len, 1, path, t)) goto err ;
  /* on disk before we say delivered */
  if (fsync(fd) < 0) { local_temp(t, "fsync ", path) ; goto err ; }
  /* closing drops the lock; the data is already durable */
  fd_close(fd) ;
  return local_say(t, LOCAL_OK, "mbox ", path, ": delivered") ;
 err:
  /* a half-written message would corrupt the next one: take it back */
  if (ftruncate(fd, st.st_size) < 0 || fsync(fd) < 0)
    local_temp(t, "take back a partial message in ", path) ;
  fd_close(fd) ;
  return LOCAL_TEMP ;
}
