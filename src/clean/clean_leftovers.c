/* At start: what a crash left half done (postern-queue(5), invariants). */

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "qscan.h"
#include "queue.h"
#include "clean.h"

/* 1 if path exists, 0 if not, -1 (warned) if we cannot tell */
static int exists (char const *path)
{
  struct stat st ;
  if (lstat(path, &st) == 0) return 1 ;
  if (errno == ENOENT) return 0 ;
  strerr_warnwu2sys("stat ", path) ;
  return -1 ;
}

/* body: only if no todo and no state entry names it. todo first: record
   creates the state before it unlinks the todo entry, so a message being
   sorted meanwhile is seen in one tree or the other. */
static int orphan (char const *id)
{
  char path[QUEUE_PATH_MAX] ;
  int r ;
  queue_path(path, QUEUE_TODO, id) ;
  r = exists(path) ;
  if (r) return 0 ;
  queue_path(path, QUEUE_STATE, id) ;
  r = exists(path) ;
  return !r ;
}

static void sweep (stralloc *names, unsigned int root, char const *tree, unsigned int sub, time_t limit)
{
  char dir[QUEUE_PATH_MAX] ;
  char const *id ;
  int n ;
  names->len = 0 ;
  queue_tree(dir, root, tree) ;
  n = qscan_names(names, dir, sub, UINT_MAX) ;
  if (n < 0) { strerr_warnwu2sys("read a subdirectory of ", dir) ; return ; }
  for (id = names->s ; n-- ; id += strlen(id) + 1)
  {
    char path[QUEUE_PATH_MAX] ;
    struct stat st ;
    queue_path(path, tree, id) ;
    if (lstat(path, &st) < 0)
    {
      if (errno != ENOENT) strerr_warnwu2sys("stat ", path) ;
      continue ;
    }
    if (!S_ISREG(st.st_mode) || st.st_mtime >= limit) continue ;
    /* a name with another root's number is not this root's message */
    if (queue_id_root(id) != root) continue ;
    if (!strcmp(tree, QUEUE_BODY) && !orphan(id)) continue ;
    /* no fsync of the directory: a leftover back after a crash is still
       a leftover, removed at the next start */
    if (unlink(path) < 0) strerr_warnwu2sys("remove leftover ", path) ;
    else strerr_warni2x("removed leftover ", path) ;
  }
}

void clean_leftovers (void)
{
  stralloc names = STRALLOC_ZERO ;
  time_t limit = time(0) - CLEAN_LEFTOVER_AGE ;
  /* every root, drained ones too: a crash leaves leftovers anywhere */
  for (unsigned int root = 0 ; root < queue_roots() ; root++)
    for (unsigned int sub = 0 ; sub < auto_split ; sub++)
    {
      sweep(&names, root, QUEUE_INTAKE, sub, limit) ;
      sweep(&names, root, QUEUE_BODY, sub, limit) ;
    }
  stralloc_free(&names) ;
}
