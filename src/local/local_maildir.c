#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "fsx.h"
#include "local.h"

static stralloc tmpf = STRALLOC_ZERO, newf = STRALLOC_ZERO, sub = STRALLOC_ZERO ;
static unsigned int deliveries ;  /* Q<n>: two copies of one run never share a name */

/* sub = dir + s, NUL-terminated */
static int path (char const *dir, char const *s)
{
  return stralloc_copys(&sub, dir) && stralloc_cats(&sub, s) && stralloc_0(&sub) ;
}

/* A missing maildir is made with its three subdirectories; their names
   must survive a crash before a message in them is said delivered. */
static int make (char const *dir, stralloc *t)
{
  static char const *const subs[3] = { "tmp", "new", "cur" } ;
  if (mkdir(dir, 0700) < 0) return errno == EEXIST ? 0 : local_temp(t, "create ", dir) ;
  for (unsigned int i = 0 ; i < 3 ; i++)
  {
    if (!path(dir, subs[i])) return local_temp(t, "allocate", "") ;
    if (mkdir(sub.s, 0700) < 0) return local_temp(t, "create ", sub.s) ;
  }
  if (fsx_syncdir(dir) < 0) return local_temp(t, "fsync ", dir) ;
  if (!path(dir, "..")) return local_temp(t, "allocate", "") ;
  if (fsx_syncdir(sub.s) < 0) return local_temp(t, "fsync ", sub.s) ;
  return 0 ;
}

/* <sec>.M<usec>P<pid>[Q<n>].<host>, host with '/' and ':' escaped */
static int name (stralloc *sa)
{
  struct timespec ts ;
  struct utsname u ;
  char fmt[UINT64_FMT] ;
  if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || uname(&u) < 0) return 0 ;
  if (!stralloc_catb(sa, fmt, uint64_fmt(fmt, (uint64_t)ts.tv_sec))
   || !stralloc_catb(sa, ".M", 2) || !stralloc_catb(sa, fmt, uint_fmt(fmt, ts.tv_nsec / 1000))
   || !stralloc_catb(sa, "P", 1) || !stralloc_catb(sa, fmt, pid_fmt(fmt, getpid()))) return 0 ;
  if (deliveries && (!stralloc_catb(sa, "Q", 1) || !stralloc_catb(sa, fmt, uint_fmt(fmt, deliveries)))) return 0 ;
  if (!stralloc_catb(sa, ".", 1)) return 0 ;
  for (char const *h = u.nodename ; *h ; h++)
    if (!(*h == '/' ? stralloc_cats(sa, "\\057") : *h == ':' ? stralloc_cats(sa, "\\072") : stralloc_catb(sa, h, 1)))
      return 0 ;
  deliveries++ ;
  return stralloc_0(sa) ;
}

int local_maildir (local_ctx const *c, char const *dir, stralloc *t)
{
  stralloc base = STRALLOC_ZERO ;
  int fd, r ;
  if ((r = make(dir, t))) return r ;
  local_tmpsweep(c->home, dir) ;
  if (!name(&base) || !stralloc_copys(&tmpf, dir) || !stralloc_cats(&tmpf, "tmp/") || !stralloc_cats(&tmpf, base.s) || !stralloc_0(&tmpf)
   || !stralloc_copys(&newf, dir) || !stralloc_cats(&newf, "new/") || !stralloc_cats(&newf, base.s) || !stralloc_0(&newf)
   || !path(dir, "new"))
    return local_temp(t, "make a maildir file name", "") ;
  fd = open(tmpf.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) ;
  if (fd < 0) return local_temp(t, "create ", tmpf.s) ;
  if (local_copy(fd, c->lines.s, c->lines.len, 0, tmpf.s, t)) goto err ;
  /* the data must be on disk before new/ names it */
  if (fsync(fd) < 0) { local_temp(t, "fsync ", tmpf.s) ; goto err ; }
  if (close(fd) < 0) { fd = -1 ; local_temp(t, "close ", tmpf.s) ; goto err ; }
  fd = -1 ;
  if (link(tmpf.s, newf.s) < 0) { local_temp(t, "link into ", newf.s) ; goto err ; }
  /* delivered once linked: a tmp/ leftover goes at a later sweep (local_tmpsweep) */
  unlink(tmpf.s) ;
  /* the new/ entry must survive a crash before we say delivered; if this
     fails the copy stays: a duplicate later beats a lost message. A
     worker fsyncs it once for its group, before reporting any of it */
  if (local_sync_dir(sub.s, t)) return LOCAL_TEMP ;
  r = local_say(t, LOCAL_OK, "maildir ", dir, ": delivered ") ;
  if (t->len && !stralloc_cats(t, base.s)) t->len = 0 ;
  stralloc_free(&base) ;
  return r ;
 err:
  if (fd >= 0) fd_close(fd) ;
  unlink(tmpf.s) ;
  stralloc_free(&base) ;
  return LOCAL_TEMP ;
}
