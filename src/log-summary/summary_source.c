#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/direntry.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "log-summary.h"

/* A log directory as cyclog(8) leaves it: the rotated files sorted by
   name (their names are the times they were rotated), then current. */

static genalloc names[SUMMARY_DIRS_MAX] ;   /* tain, one per rotated file */
static unsigned int nsources = 0 ;

static int cmp (void const *a, void const *b)
{
  tain const *x = a, *y = b ;
  return tain_less(x, y) ? -1 : tain_less(y, x) ;
}

/* keeps the newest SUMMARY_ROTATED_MAX: a directory cyclog did not
   prune cannot take memory without bound */
static void keep_newest (genalloc *g)
{
  size_t n = genalloc_len(tain, g) ;
  tain *s = genalloc_s(tain, g) ;
  qsort(s, n, sizeof *s, &cmp) ;
  if (n <= SUMMARY_ROTATED_MAX) return ;
  memmove(s, s + n - SUMMARY_ROTATED_MAX, SUMMARY_ROTATED_MAX * sizeof *s) ;
  genalloc_setlen(tain, g, SUMMARY_ROTATED_MAX) ;
  logsum_totals.gone += n - SUMMARY_ROTATED_MAX ;
}

static void list (struct source *src, genalloc *g)
{
  DIR *d = opendir(src->dir) ;
  if (!d) strerr_diefu2sys(111, "open directory ", src->dir) ;
  for (;;)
  {
    direntry *de ;
    tain t ;
    errno = 0 ;
    de = readdir(d) ;
    if (!de) break ;
    if (timestamp_scan(de->d_name, &t) != TIMESTAMP || strcmp(de->d_name + TIMESTAMP, ".s")) continue ;
    if (!genalloc_append(tain, g, &t)) strerr_diefu1sys(111, "allocate") ;
    if (genalloc_len(tain, g) >= 2 * SUMMARY_ROTATED_MAX) keep_newest(g) ;
  }
  if (errno) strerr_diefu2sys(111, "read directory ", src->dir) ;
  dir_close(d) ;
  keep_newest(g) ;
  src->rot = genalloc_s(tain, g) ;
  src->nrot = genalloc_len(tain, g) ;
}

static int openin (struct source *src, char const *name)
{
  size_t dl = strlen(src->dir), nl = strlen(name) ;
  char path[dl + nl + 2] ;
  int fd ;
  memcpy(path, src->dir, dl) ;
  path[dl] = '/' ;
  memcpy(path + dl + 1, name, nl + 1) ;
  fd = open2(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0 && errno != ENOENT) strerr_diefu2sys(111, "open ", path) ;
  return fd ;
}

/* current is opened before the directory is listed: should cyclog
   rotate it meanwhile, the open descriptor still reads it whole, and
   the rotated file of the same inode is skipped */
void logsum_source_open (struct source *src, char const *dir)
{
  struct stat st ;
  if (nsources >= SUMMARY_DIRS_MAX) strerr_dief1x(100, "too many directories: at most 32") ;
  src->dir = dir ;
  src->fd = -1 ;
  src->curfd = openin(src, "current") ;
  if (src->curfd >= 0)
  {
    if (fstat(src->curfd, &st) < 0) strerr_diefu3sys(111, "stat ", dir, "/current") ;
    src->curdev = st.st_dev ;
    src->curino = st.st_ino ;
  }
  list(src, names + nsources++) ;
  src->next = 0 ;
  src->pos = src->len = src->llen = 0 ;
  logsum_source_next(src) ;
}

/* the next file to read: -1 when none is left */
static int nextfile (struct source *src)
{
  while (src->next < src->nrot)
  {
    char name[TIMESTAMP + 3] ;
    struct stat st ;
    int fd ;
    timestamp_fmt(name, src->rot + src->next++) ;
    memcpy(name + TIMESTAMP, ".s", 3) ;
    fd = openin(src, name) ;
    /* pruned by cyclog since the listing */
    if (fd < 0) { logsum_totals.gone++ ; continue ; }
    if (fstat(fd, &st) < 0) strerr_diefu4sys(111, "stat ", src->dir, "/", name) ;
    if (src->curfd >= 0 && st.st_dev == src->curdev && st.st_ino == src->curino)
    {
      fd_close(fd) ;
      continue ;
    }
    logsum_totals.files++ ;
    return fd ;
  }
  if (src->curfd >= 0)
  {
    int fd = src->curfd ;
    src->curfd = -1 ;
    logsum_totals.files++ ;
    return fd ;
  }
  return -1 ;
}

/* a whole line is in src->line: 1 if it is stamped */
static int stamped (struct source *src)
{
  tain t ;
  struct timespec ts ;
  if (!src->llen) return 0 ;
  if (src->llen < TIMESTAMP + 1 || timestamp_scan(src->line, &t) != TIMESTAMP || src->line[TIMESTAMP] != ' '
      || !timespec_sysclock_from_tain(&ts, &t) || ts.tv_sec < 0)
  {
    logsum_totals.unstamped++ ;
    return 0 ;
  }
  src->t = (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec ;
  return 1 ;
}

/* Reads the next stamped line into src->line (NUL-terminated), the
   longest cut at SUMMARY_LINE_MAX; src->have is 0 at the end. */
void logsum_source_next (struct source *src)
{
  int cut = 0 ;
  src->have = 0 ;
  src->llen = 0 ;
  for (;;)
  {
    char *nl ;
    size_t n ;
    if (src->fd < 0)
    {
      src->fd = nextfile(src) ;
      if (src->fd < 0) return ;
      src->pos = src->len = 0 ;
    }
    if (src->pos == src->len)
    {
      ssize_t r = read(src->fd, src->buf, sizeof src->buf) ;
      if (r < 0 && errno == EINTR) continue ;
      if (r < 0) strerr_diefu2sys(111, "read a file in ", src->dir) ;
      if (!r)
      {
        fd_close(src->fd) ;
        src->fd = -1 ;
        /* a last line without its newline (a crash) still counts */
        if (!src->llen) continue ;
        nl = 0 ;
        goto line ;
      }
      src->pos = 0 ;
      src->len = r ;
    }
    nl = memchr(src->buf + src->pos, '\n', src->len - src->pos) ;
    n = (nl ? (size_t)(nl - src->buf) : src->len) - src->pos ;
    if (n > SUMMARY_LINE_MAX - src->llen)
    {
      cut = 1 ;
      memcpy(src->line + src->llen, src->buf + src->pos, SUMMARY_LINE_MAX - src->llen) ;
      src->llen = SUMMARY_LINE_MAX ;
    }
    else
    {
      memcpy(src->line + src->llen, src->buf + src->pos, n) ;
      src->llen += n ;
    }
    src->pos += n + !!nl ;
    if (!nl) continue ;
  line:
    src->line[src->llen] = 0 ;
    logsum_totals.cut += cut ;
    if (stamped(src)) { src->have = 1 ; return ; }
    src->llen = 0 ;
    cut = 0 ;
  }
}
