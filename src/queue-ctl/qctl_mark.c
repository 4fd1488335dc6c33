#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "fsx.h"
#include "qctl.h"
#include "qscan.h"
#include "queue.h"

/* markers read per hold subdirectory by a sweep */
#define SWEEP_MAX 1000000

static void sync_touched (unsigned char const *touched)
{
  char dir[QUEUE_PATH_MAX] ;
  for (unsigned int sub = 0 ; sub < auto_split ; sub++)
  {
    size_t n = strlen(QUEUE_HOLD) ;
    if (!touched[sub]) continue ;
    memcpy(dir, QUEUE_HOLD, n) ;
    dir[n++] = '/' ;
    dir[n + uint_fmt(dir + n, sub)] = 0 ;
    /* a hold must outlive a crash once queue-ctl said it is made */
    if (fsx_syncdir(dir) < 0) strerr_diefu2sys(111, "fsync ", dir) ;
  }
}

void qctl_mark (stralloc const *sel, int hold)
{
  stralloc touched = STRALLOC_ZERO ;
  if (!stralloc_ready(&touched, auto_split)) strerr_diefu1sys(111, "allocate") ;
  memset(touched.s, 0, auto_split) ;
  for (size_t i = 0 ; i < sel->len ; i += strlen(sel->s + i) + 1)
  {
    char path[QUEUE_PATH_MAX] ;
    char const *id = sel->s + i ;
    queue_hold_path(path, id) ;
    if (hold)
    {
      int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640) ;
      if (fd < 0) strerr_diefu2sys(111, "create ", path) ;
      fd_close(fd) ;
    }
    else if (unlink(path) < 0)
    {
      if (errno == ENOENT) continue ;
      strerr_diefu2sys(111, "remove ", path) ;
    }
    touched.s[queue_hash(id)] = 1 ;
  }
  sync_touched((unsigned char const *)touched.s) ;
  stralloc_free(&touched) ;
}

static int exists (char const *tree, char const *id)
{
  char path[QUEUE_PATH_MAX] ;
  queue_path(path, tree, id) ;
  return access(path, F_OK) == 0 || errno != ENOENT ;
}

/* A removed message's marker stays behind it (send writes nothing):
   gone once neither its todo nor its state file is left. todo first:
   record makes the state before it unlinks the todo entry, so a
   message being sorted is seen in one or the other. */
void qctl_mark_sweep (void)
{
  stralloc names = STRALLOC_ZERO ;
  for (unsigned int sub = 0 ; sub < auto_split ; sub++)
  {
    names.len = 0 ;
    if (qscan_names(&names, QUEUE_HOLD, sub, SWEEP_MAX) < 0)
    {
      if (errno != ENOENT) strerr_warnwu2sys("read the markers in ", QUEUE_HOLD) ;
      continue ;
    }
    for (size_t i = 0 ; i < names.len ; i += strlen(names.s + i) + 1)
    {
      char path[QUEUE_PATH_MAX] ;
      char const *id = names.s + i ;
      if (exists(QUEUE_TODO, id) || exists(QUEUE_STATE, id)) continue ;
      queue_hold_path(path, id) ;
      if (unlink(path) < 0 && errno != ENOENT) strerr_warnwu2sys("remove ", path) ;
    }
  }
  stralloc_free(&names) ;
}
