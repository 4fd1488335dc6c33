/* L and S requests: report the states, sort queue/todo into queue/state. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "fsx.h"
#include "qscan.h"
#include "record.h"

static stralloc names = STRALLOC_ZERO ;  /* ids of one subdirectory */
static stralloc done = STRALLOC_ZERO ;   /* todo entries to unlink */
static stralloc file = STRALLOC_ZERO ;
static stralloc st = STRALLOC_ZERO ;
/* where the next sort starts, over every root's subdirectories (root *
   auto_split + sub): no subdirectory waits forever */
static unsigned int cursor = 0 ;

/* N: a message just sorted out of todo; O: a state already there */
static void reply_state (char letter, char const *id, char const *s, size_t len)
{
  if (!stralloc_catb(&record_out, &letter, 1) || !stralloc_catb(&record_out, id, strlen(id) + 1)
   || !stralloc_catb(&record_out, s, len))
    strerr_diefu1sys(111, "allocate a reply") ;
}

static void load_subdir (unsigned int root, unsigned int sub)
{
  char tree[QUEUE_PATH_MAX] ;
  char const *id ;
  int n ;
  names.len = 0 ;
  queue_tree(tree, root, QUEUE_STATE) ;
  n = qscan_names(&names, tree, sub, UINT_MAX) ;
  if (n < 0) { strerr_warnwu2sys("read a subdirectory of ", tree) ; return ; }
  for (id = names.s ; n-- ; id += strlen(id) + 1)
  {
    char path[QUEUE_PATH_MAX] ;
    state_msg m ;
    int fd ;
    queue_path(path, QUEUE_TODO, id) ;
    /* a todo entry still there: its sort reports the message */
    if (access(path, F_OK) == 0) continue ;
    queue_path(path, QUEUE_STATE, id) ;
    fd = open(path, O_RDONLY | O_CLOEXEC) ;
    if (fd < 0) { strerr_warnwu2sys("open ", path) ; continue ; }
    if (!qscan_read(fd, &file, RECORD_STATE_MAX)) strerr_warnwu2sys("read ", path) ;
    else if (!state_parse(&m, file.s, file.len))
      strerr_warnw2x("incomplete state file with no todo entry, left alone: ", path) ;
    else reply_state('O', id, file.s, file.len) ;
    fd_close(fd) ;
    if (record_out.len >= 65536) record_flush() ;
  }
}

/* the state file of a todo message, built in st; 1, 2 if no recipient is
   left (the todo entry is dropped), 0 if the message must wait */
static int build (char const *id, unsigned long size)
{
  unsigned long uid = 0 ;
  int haveuid = 0 ;
  unsigned int nrcpts = 0 ;
  size_t pos = 0, p = 0 ;
  char const *a ;
  env_view v ;
  enum env_error e ;
  state_msg m ;
  /* queue-inject's info fields, then the envelope */
  while (pos < file.len && (file.s[pos] == 'u' || file.s[pos] == 'p'))
  {
    size_t n = strlen(file.s + pos) ;
    if (pos + n >= file.len) break ;
    if (file.s[pos] == 'u') haveuid = n > 1 && ulong_scan(file.s + pos + 1, &uid) == n - 1 ;
    pos += n + 1 ;
  }
  e = env_parse(&v, file.s + pos, file.len - pos) ;
  if (e != ENV_OK || !haveuid)
  {
    strerr_warnw4x("malformed todo file, left alone: ", id, ": ", e != ENV_OK ? env_strerror(e) : "no uid field") ;
    return 0 ;
  }
  st.len = 0 ;
  if (!state_put_header(&st, uid, size, v.sender, strlen(v.sender)))
  {
    strerr_warnwu1sys("allocate") ;
    return 0 ;
  }
  record_classify_reset() ;
  while ((a = env_next_rcpt(&v, &p)))
  {
    if (!*a) { strerr_warnw2x("dropping an empty recipient of ", id) ; continue ; }
    if (!record_classify(&st, id, a, strlen(a))) return 0 ;
    nrcpts++ ;
  }
  if (!nrcpts) { strerr_warnw2x("no recipient left, dropping the todo entry of ", id) ; return 2 ; }
  if (!stralloc_0(&st)) { strerr_warnwu1sys("allocate") ; return 0 ; }
  if (!state_parse(&m, st.s, st.len))
  {
    strerr_warnw3x("bug: unparsable state built for ", id, ", left in todo") ;
    return 0 ;
  }
  return 1 ;
}

/* 1 sorted (N reply added), 2 todo entry to drop, 0 left in todo */
static int sort_one (char const *id)
{
  char path[QUEUE_PATH_MAX] ;
  char spath[QUEUE_PATH_MAX] ;
  struct stat stb ;
  state_msg m ;
  int fd, r ;
  queue_path(spath, QUEUE_STATE, id) ;
  fd = open(spath, O_RDONLY | O_CLOEXEC) ;
  if (fd >= 0)
  {
    /* complete: a crash came between the state's fsyncs and the todo's
       unlink, so keep it. fsync it again: the crash may have been ours
       alone, with the file still in the page cache only. */
    if (qscan_read(fd, &st, RECORD_STATE_MAX) && state_parse(&m, st.s, st.len))
    {
      r = fd_sync(fd) ;
      fd_close(fd) ;
      if (r < 0) { strerr_warnwu2sys("fsync ", spath) ; return 0 ; }
      reply_state('O', id, st.s, st.len) ;
      return 1 ;
    }
    fd_close(fd) ;
  }
  else if (errno != ENOENT) { strerr_warnwu2sys("open ", spath) ; return 0 ; }
  queue_path(path, QUEUE_TODO, id) ;
  fd = open(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) { strerr_warnwu2sys("open ", path) ; return 0 ; }
  r = qscan_read(fd, &file, RECORD_TODO_MAX) ;
  fd_close(fd) ;
  if (!r)
  {
    if (errno == EFBIG) strerr_warnw2x("todo file too large, left alone: ", path) ;
    else strerr_warnwu2sys("read ", path) ;
    return 0 ;
  }
  queue_path(path, QUEUE_BODY, id) ;
  if (stat(path, &stb) < 0)
  {
    if (errno == ENOENT) strerr_warnw2x("no body, todo entry left alone: ", id) ;
    else strerr_warnwu2sys("stat ", path) ;
    return 0 ;
  }
  r = build(id, (unsigned long)stb.st_size) ;
  if (r != 1) return r ;
  /* unfinished by definition while the todo entry exists: O_TRUNC */
  fd = open(spath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640) ;
  if (fd < 0) { strerr_warnwu2sys("create ", spath) ; return 0 ; }
  /* the state must be on disk before the todo entry it replaces goes:
     the scan's group commit (record_scan) does it for every state */
  if (allwrite(fd, st.s, st.len) < st.len)
  {
    strerr_warnwu2sys("write ", spath) ;
    fd_close(fd) ;
    return 0 ;
  }
  fd_close(fd) ;
  reply_state('N', id, st.s, st.len) ;
  return 1 ;
}

/* sorts up to max entries of root's todo/sub: returns how many it took */
static unsigned int sort_subdir (unsigned int root, unsigned int sub, unsigned int max, unsigned int *sorted)
{
  char tree[QUEUE_PATH_MAX] ;
  char const *id ;
  unsigned int taken = 0 ;
  int n ;
  names.len = 0 ;
  queue_tree(tree, root, QUEUE_TODO) ;
  n = qscan_names(&names, tree, sub, max) ;
  if (n < 0) { strerr_warnwu2sys("read a subdirectory of ", tree) ; return 0 ; }
  for (id = names.s ; taken < (unsigned int)n && record_out.len < RECORD_SCAN_BYTES ; id += strlen(id) + 1)
  {
    int r = sort_one(id) ;
    taken++ ;
    if (!r) continue ;
    *sorted += r == 1 ;
    if (!stralloc_catb(&done, id, strlen(id) + 1)) strerr_diefu1sys(111, "allocate") ;
  }
  return taken ;
}

/* The end of a root's share of a scan: one group commit for every state
   created there (contents and names) before any todo entry goes and send
   hears of it, a syncfs, not an fsync per file and per directory. If it
   fails, that root's sorts are taken back (replies from out_at, todo
   entries from done_at): they wait for the next scan, and the other
   roots, on other disks, go on. */
static void commit_root (unsigned int root, int sorted, size_t out_at, size_t done_at)
{
  char tree[QUEUE_PATH_MAX] ;
  if (!sorted) return ;
  queue_tree(tree, root, QUEUE_STATE) ;
  if (fsx_syncfs(tree) == 0) return ;
  strerr_warnwu3sys("syncfs ", tree, " (its todo entries wait for the next scan)") ;
  record_out.len = out_at ;
  done.len = done_at ;
}

void record_scan (int load)
{
  unsigned int taken = 0, k = 0, nroots, slots, root = 0 ;
  unsigned int sorted = 0 ;
  size_t out_at = 0, done_at = 0 ;
  /* a root appended to control/queues is scanned from the next scan on;
     a file that cannot be read leaves the roots as they were */
  if (queue_roots_load() < 0) strerr_warnwu1sys("read " QUEUE_ROOTS_FILE) ;
  nroots = queue_roots() ;
  slots = nroots * auto_split ;
  if (load)
    for (unsigned int r = 0 ; r < nroots ; r++)
      for (unsigned int sub = 0 ; sub < auto_split ; sub++) load_subdir(r, sub) ;
  if (record_out.len) record_flush() ;
  done.len = 0 ;
  cursor %= slots ;
  while (k < slots && taken < RECORD_SCAN_MAX && record_out.len < RECORD_SCAN_BYTES)
  {
    unsigned int at = (cursor + k++) % slots ;
    if (at / auto_split != root || k == 1)
    {
      commit_root(root, sorted, out_at, done_at) ;
      root = at / auto_split ;
      sorted = 0 ; out_at = record_out.len ; done_at = done.len ;
    }
    taken += sort_subdir(root, at % auto_split, RECORD_SCAN_MAX - taken, &sorted) ;
  }
  commit_root(root, sorted, out_at, done_at) ;
  if (taken >= RECORD_SCAN_MAX || record_out.len >= RECORD_SCAN_BYTES) cursor = (cursor + k) % slots ;
  /* no fsync: a todo entry back after a crash finds its complete state
     and is unlinked again */
  for (char const *id = done.s ; id < done.s + done.len ; id += strlen(id) + 1)
  {
    char path[QUEUE_PATH_MAX] ;
    queue_path(path, QUEUE_TODO, id) ;
    if (unlink(path) < 0 && errno != ENOENT) strerr_warnwu2sys("unlink ", path) ;
  }
  record_reply('E', "", 0, 0) ;
  record_flush() ;
}

/* "L<k>": subdirectory k alone, no sort: send loads a large queue a
   subdirectory at a time, with scans of new mail in between */
void record_load_subdir (unsigned int sub)
{
  if (sub < auto_split)
    for (unsigned int root = 0 ; root < queue_roots() ; root++) load_subdir(root, sub) ;
  record_reply('E', "", 0, 0) ;
  record_flush() ;
}
