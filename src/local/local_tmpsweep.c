#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "local.h"

/* A copy whose local was killed between its create in tmp/ and its link
   into new/ stays in tmp/ for ever. maildir(5) (cr.yp.to/proto/maildir.html):
   a file in tmp/ not accessed for 36 hours may be removed. Done here, as
   the recipient, where the Maildir is known and open to us; clean runs as
   the queue owner and can neither find nor enter users' Maildirs. */

/* seconds since a tmp/ file was last read or written: the spec's 36 hours */
#define TMP_STALE (36 * 3600)
/* names read from one tmp/ per sweep: the work a delivery may add */
#define SWEEP_NAMES_MAX 1000
/* Maildirs a worker remembers as swept (hashes of their paths); past
   this the oldest is forgotten and may be swept once more */
#define SWEPT_MAX 256

static uint64_t swept[SWEPT_MAX] ;
static unsigned int nswept = 0, nextslot = 0 ;
static stralloc tmpdir = STRALLOC_ZERO ;

static uint64_t hash (char const *a, char const *b)
{
  uint64_t h = 14695981039346656037u ;
  for (; *a ; a++) h = (h ^ (unsigned char)*a) * 1099511628211u ;
  h = (h ^ '/') * 1099511628211u ;
  for (; *b ; b++) h = (h ^ (unsigned char)*b) * 1099511628211u ;
  return h ;
}

/* 1 the first time this process sees home/dir */
static int first_time (char const *home, char const *dir)
{
  uint64_t h = hash(home, dir) ;
  for (unsigned int i = 0 ; i < nswept ; i++) if (swept[i] == h) return 0 ;
  swept[nextslot] = h ;
  nextslot = (nextslot + 1) % SWEPT_MAX ;
  if (nswept < SWEPT_MAX) nswept++ ;
  return 1 ;
}

void local_tmpsweep (char const *home, char const *dir)
{
  DIR *d ;
  struct dirent *e ;
  time_t old = time(0) - TMP_STALE ;
  unsigned int n = 0 ;
  if (!first_time(home, dir)) return ;
  if (!stralloc_copys(&tmpdir, dir) || !stralloc_cats(&tmpdir, "tmp") || !stralloc_0(&tmpdir)) return ;
  d = opendir(tmpdir.s) ;
  if (!d) return ;
  while (n++ < SWEEP_NAMES_MAX && (e = readdir(d)))
  {
    struct stat st ;
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue ;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) continue ;
    if (st.st_mtime < old && st.st_atime < old) unlinkat(dirfd(d), e->d_name, 0) ;
  }
  closedir(d) ;
}
