#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/direntry.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "cyclog.h"
#include "fsx.h"

/* a rotated file: '@', 24 hex digits, ".s" */
#define NAME_LEN (TIMESTAMP + 2)

static int isrotated (char const *s)
{
  tain t ;
  return timestamp_scan(s, &t) == TIMESTAMP && !strcmp(s + TIMESTAMP, ".s") ;
}

/* Counts the rotated files; puts the oldest and the newest name (the
   names are times) in old and new. -1 if the directory cannot be read. */
static int scan (char *old, char *new)
{
  int n = 0 ;
  DIR *d = opendir(".") ;
  if (!d) return -1 ;
  old[0] = new[0] = 0 ;
  for (;;)
  {
    direntry *de ;
    errno = 0 ;
    de = readdir(d) ;
    if (!de) break ;
    if (!isrotated(de->d_name)) continue ;
    n++ ;
    if (!old[0] || strcmp(de->d_name, old) < 0) memcpy(old, de->d_name, NAME_LEN + 1) ;
    if (strcmp(de->d_name, new) > 0) memcpy(new, de->d_name, NAME_LEN + 1) ;
  }
  dir_close(d) ;
  return errno ? -1 : n ;
}

/* At start: later names must sort after the ones already there, even
   if the clock was set back since. */
void cyclog_rotate_init (void)
{
  char old[NAME_LEN + 1], new[NAME_LEN + 1] ;
  if (scan(old, new) < 0) strerr_diefu1sys(111, "read the log directory") ;
  if (new[0]) timestamp_scan(new, &cyclog_state.lastrot) ;
}

/* Deletes the oldest rotated files until fewer than nmax are left, so
   that after the rename there are never more than nmax. A failure only
   leaves a file too many: warn and go on. */
static void prune (void)
{
  char old[NAME_LEN + 1], new[NAME_LEN + 1] ;
  for (;;)
  {
    int n = scan(old, new) ;
    if (n < 0)
    {
      strerr_warnwu1sys("read the log directory") ;
      return ;
    }
    if (!n || (unsigned int)n < cyclog_state.nmax) return ;
    if (unlink(old) < 0 && errno != ENOENT)
    {
      strerr_warnwu2sys("remove ", old) ;
      return ;
    }
    if ((unsigned int)n - 1 < cyclog_state.nmax) return ;
  }
}

/* Current's name at rotation: the time, made later than the last one
   (a clock set back, or two rotations in one nanosecond) and free. */
static void newname (char *name)
{
  tain t ;
  tain one = TAIN_ZERO ;
  one.nano = 1 ;
  tain_wallclock_read(&t) ;
  if (!tain_less(&cyclog_state.lastrot, &t)) tain_add(&t, &cyclog_state.lastrot, &one) ;
  for (;;)
  {
    timestamp_fmt(name, &t) ;
    memcpy(name + TIMESTAMP, ".s", 3) ;
    if (access(name, F_OK) < 0 && errno == ENOENT) break ;
    tain_add(&t, &t, &one) ;
  }
  cyclog_state.lastrot = t ;
}

void cyclog_rotate (void)
{
  char name[NAME_LEN + 1] ;
  unsigned int tries = 0 ;
  cyclog_flush() ;
  /* a rotated file is never written again: it must be whole on disk
     before it takes its final name */
  while (fd_sync(cyclog_state.fd) < 0) cyclog_wait("fsync current", &tries) ;
  fd_close(cyclog_state.fd) ;
  prune() ;
  if (!cyclog_state.nmax)
    while (unlink("current") < 0 && errno != ENOENT) cyclog_wait("remove current", &tries) ;
  else
  {
    newname(name) ;
    while (fsx_rename("current", name) < 0) cyclog_wait("rename current", &tries) ;
    /* after a crash, the rotated file must not come back as current */
    while (fsx_syncdir(".") < 0) cyclog_wait("fsync the log directory", &tries) ;
  }
  while (cyclog_open() < 0) cyclog_wait("open current", &tries) ;
}
