/* Group commit of Maildir new/ directories in a worker: each directory
   a group of deliveries linked into is fsynced once, after all of
   them, and before any is reported (local_worker.c). */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "fsx.h"
#include "local.h"

/* distinct directories noted in one group; past it, fsync at once */
#define SYNC_DIRS_MAX 32

typedef struct syncdir_s syncdir ;
struct syncdir_s
{
  int fd ;
  dev_t dev ;
  ino_t ino ;
  uint64_t who ;  /* deliveries of the group linked into it */
} ;

static syncdir dirs[SYNC_DIRS_MAX] ;
static unsigned int ndirs ;
static int group ;
static unsigned int cur ;
static uint64_t failed ;

void local_sync_group (int on)
{
  group = on ;
  ndirs = 0 ;
  failed = 0 ;
  cur = 0 ;
}

void local_sync_current (unsigned int i)
{
  cur = i ;
}

int local_sync_dir (char const *dir, stralloc *t)
{
  struct stat st ;
  int fd ;
  if (!group || ndirs == SYNC_DIRS_MAX) return fsx_syncdir(dir) < 0 ? local_temp(t, "fsync ", dir) : 0 ;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (fd < 0) return local_temp(t, "open ", dir) ;
  if (fstat(fd, &st) < 0) { local_temp(t, "stat ", dir) ; fd_close(fd) ; return LOCAL_TEMP ; }
  for (unsigned int i = 0 ; i < ndirs ; i++)
    if (dirs[i].dev == st.st_dev && dirs[i].ino == st.st_ino)
    {
      dirs[i].who |= (uint64_t)1 << cur ;
      fd_close(fd) ;
      return 0 ;
    }
  dirs[ndirs].fd = fd ;
  dirs[ndirs].dev = st.st_dev ;
  dirs[ndirs].ino = st.st_ino ;
  dirs[ndirs].who = (uint64_t)1 << cur ;
  ndirs++ ;
  return 0 ;
}

int local_sync_flush (stralloc *t)
{
  int r = 0 ;
  for (unsigned int i = 0 ; i < ndirs ; i++)
  {
    if (fsync(dirs[i].fd) < 0)
    {
      failed |= dirs[i].who ;
      if (dirs[i].who & ((uint64_t)1 << cur)) r = local_temp(t, "fsync a maildir's ", "new directory") ;
    }
    fd_close(dirs[i].fd) ;
  }
  ndirs = 0 ;
  return r ;
}

char const *local_sync_failed (unsigned int i)
{
  if (!(failed & ((uint64_t)1 << i))) return 0 ;
  return "4.3.0 unable to fsync a maildir's new directory" ;
}
