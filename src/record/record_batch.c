/* U and X requests: each is applied as it is read; the fsyncs it needs
   wait for the end of the batch, where each changed file and directory
   is synced once, and only then are the replies written. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "frame.h"
#include "fsx.h"
#include "qscan.h"
#include "record.h"

struct sfile
{
  char id[QUEUE_ID_MAX + 1] ;
  int fd ;           /* -1 once an X of this batch removed the file */
  int sync ;         /* a D, F or B was written: fsync before replying */
  int err ;          /* errno of a failed fsync */
  genalloc offsets ; /* size_t: each recipient's R field */
  stralloc channels ;
} ;

struct pending
{
  char letter ;      /* 'A' (ref: a file), 'x' (ref: a subdir), '!' */
  unsigned int ref ;
  char id[QUEUE_ID_MAX + 1] ;
  char const *text ;
  int err ;
} ;

static struct sfile files[RECORD_FILES_MAX] ;
static unsigned int nfiles = 0 ;
static struct pending pend[RECORD_BATCH_MAX] ;
static unsigned int npend = 0 ;
/* int per state subdirectory of each root, at root * auto_split + sub:
   0, -1 to sync, errno */
static genalloc dirs = GENALLOC_ZERO ;
static stralloc scratch = STRALLOC_ZERO ;

int record_batch_init (void)
{
  if (!genalloc_ready(int, &dirs, QUEUE_ROOTS_MAX * auto_split)) return 0 ;
  memset(dirs.s, 0, QUEUE_ROOTS_MAX * auto_split * sizeof(int)) ;
  return 1 ;
}

unsigned int record_batch_files (void)
{
  return nfiles ;
}

static void add (char letter, char const *id, unsigned int ref, char const *text, int err)
{
  struct pending *p = pend + npend++ ;
  p->letter = letter ;
  p->ref = ref ;
  memcpy(p->id, id, strlen(id) + 1) ;
  p->text = text ;
  p->err = err ;
}

void record_error (char const *s, size_t len, char const *text)
{
  size_t pos = 0 ;
  char const *f = frame_field(s, len, &pos) ;
  add('!', f && queue_id_valid(f + 1) ? f + 1 : "", 0, text, 0) ;
}

static int getnum (char const *f, uint32_t *u)
{
  size_t n = uint32_scan(f, u) ;
  return n && !f[n] ;
}

/* the batch's entry for id, opened and parsed on first use; -1 with
   *why set (and errno, or 0) */
static int sfile_get (char const *id, char const **why)
{
  char path[QUEUE_PATH_MAX] ;
  struct sfile *f = files + nfiles ;
  state_msg m ;
  state_rcpt r ;
  size_t pos ;
  for (unsigned int i = 0 ; i < nfiles ; i++)
    if (!strcmp(files[i].id, id))
    {
      if (files[i].fd >= 0) return (int)i ;
      *why = "state file removed earlier in this batch" ;
      return (errno = 0, -1) ;
    }
  if (nfiles >= RECORD_FILES_MAX)  /* take_batch ends a batch before */
  {
    *why = "bug: too many state files in one batch" ;
    return (errno = 0, -1) ;
  }
  queue_path(path, QUEUE_STATE, id) ;
  f->fd = open(path, O_RDWR | O_CLOEXEC) ;
  if (f->fd < 0) { *why = "unable to open state file" ; return -1 ; }
  *why = "unable to read state file" ;
  if (!qscan_read(f->fd, &scratch, RECORD_STATE_MAX)) goto err ;
  *why = "state file malformed" ;
  errno = 0 ;
  if (!state_parse(&m, scratch.s, scratch.len)) goto err ;
  *why = "unable to allocate" ;
  genalloc_setlen(size_t, &f->offsets, 0) ;
  f->channels.len = 0 ;
  for (pos = m.rcpts_at ; state_next_rcpt(&m, scratch.s, &pos, &r) ; )
    if (!genalloc_append(size_t, &f->offsets, &r.offset) || !stralloc_catb(&f->channels, &r.channel, 1))
      goto err ;
  memcpy(f->id, id, strlen(id) + 1) ;
  f->sync = f->err = 0 ;
  return (int)nfiles++ ;
 err:
  {
    int e = errno ;
    fd_close(f->fd) ;
    errno = e ;
  }
  return -1 ;
}

static int pwrite_all (int fd, char const *s, size_t n, off_t off)
{
  while (n)
  {
    ssize_t r = pwrite(fd, s, n, off) ;
    if (r < 0) { if (errno == EINTR) continue ; return 0 ; }
    s += r ; n -= (size_t)r ; off += r ;
  }
  return 1 ;
}

/* "U<id>" index status attempts lasttry "=text" */
void record_update (char const *s, size_t len)
{
  char const *f[7] ;
  char fixed[STATE_FIXED] ;
  char const *why ;
  unsigned int n = 0 ;
  uint32_t idx, attempts, lasttry ;
  size_t pos = 0 ;
  int i ;
  while (n < 7 && (f[n] = frame_field(s, len, &pos))) n++ ;
  if (n != 6 || !queue_id_valid(f[0] + 1) || !getnum(f[1], &idx) || f[2][1]
   || !strchr("TDFB", f[2][0]) || !getnum(f[3], &attempts) || !getnum(f[4], &lasttry)
   || f[5][0] != '=')
  {
    record_error(s, len, "malformed U request") ;
    return ;
  }
  i = sfile_get(f[0] + 1, &why) ;
  if (i < 0) { add('!', f[0] + 1, 0, why, errno) ; return ; }
  if (idx >= genalloc_len(size_t, &files[i].offsets))
  {
    add('!', f[0] + 1, 0, "no such recipient index", 0) ;
    return ;
  }
  state_fmt_fixed(fixed, f[2][0], files[i].channels.s[idx], attempts, lasttry, f[5] + 1, strlen(f[5] + 1)) ;
  if (!pwrite_all(files[i].fd, fixed, STATE_FIXED, (off_t)genalloc_s(size_t, &files[i].offsets)[idx]))
  {
    add('!', f[0] + 1, 0, "unable to write state file", errno) ;
    return ;
  }
  /* a final status must survive a crash before send acts on it: a lost D
     delivers twice, a lost B bounces twice. T is only a retry schedule. */
  if (f[2][0] != ST_TODO) files[i].sync = 1 ;
  add('A', f[0] + 1, (unsigned int)i, 0, 0) ;
}

/* "X<id>" */
void record_remove (char const *s, size_t len)
{
  char path[QUEUE_PATH_MAX] ;
  char const *f[2] ;
  unsigned int n = 0, sub ;
  size_t pos = 0 ;
  while (n < 2 && (f[n] = frame_field(s, len, &pos))) n++ ;
  if (n != 1 || !queue_id_valid(f[0] + 1))
  {
    record_error(s, len, "malformed X request") ;
    return ;
  }
  queue_path(path, QUEUE_STATE, f[0] + 1) ;
  if (unlink(path) < 0 && errno != ENOENT)
  {
    add('!', f[0] + 1, 0, "unable to remove state file", errno) ;
    return ;
  }
  sub = queue_id_root(f[0] + 1) * auto_split + queue_hash(f[0] + 1) ;
  genalloc_s(int, &dirs)[sub] = -1 ;
  /* a removed file needs no fsync of its contents */
  for (unsigned int i = 0 ; i < nfiles ; i++)
    if (files[i].fd >= 0 && !strcmp(files[i].id, f[0] + 1))
    {
      fd_close(files[i].fd) ;
      files[i].fd = -1 ;
      files[i].sync = 0 ;
    }
  add('x', f[0] + 1, sub, 0, 0) ;
}

/* Two or more fsyncs due in a root: one syncfs of its state tree's
   filesystem instead (a group commit); a failure fails every request
   that needed one. One: that fsync alone, as cheap and touching nothing
   else. Each root is on its own disk, so each gets its own. */
static void group_sync (int *d, unsigned int root)
{
  char tree[QUEUE_PATH_MAX] ;
  unsigned int need = 0 ;
  int e ;
  int *rd = d + root * auto_split ;
  for (unsigned int i = 0 ; i < nfiles ; i++)
    need += files[i].fd >= 0 && files[i].sync && queue_id_root(files[i].id) == root ;
  for (unsigned int sub = 0 ; sub < auto_split ; sub++) need += rd[sub] < 0 ;
  if (need < 2) return ;
  queue_tree(tree, root, QUEUE_STATE) ;
  e = fsx_syncfs(tree) < 0 ? errno : 0 ;
  if (e) strerr_warnwu2sys("syncfs ", tree) ;
  for (unsigned int i = 0 ; i < nfiles ; i++)
    if (files[i].fd >= 0 && files[i].sync && queue_id_root(files[i].id) == root)
    {
      files[i].sync = 0 ;
      files[i].err = e ;
    }
  for (unsigned int sub = 0 ; sub < auto_split ; sub++)
    if (rd[sub] < 0) rd[sub] = e ;
}

void record_batch_end (void)
{
  int *d = genalloc_s(int, &dirs) ;
  unsigned int nd = QUEUE_ROOTS_MAX * auto_split ;
  for (unsigned int root = 0 ; root < QUEUE_ROOTS_MAX ; root++) group_sync(d, root) ;
  for (unsigned int i = 0 ; i < nfiles ; i++)
  {
    if (files[i].fd < 0) continue ;
    if (files[i].sync && fd_sync(files[i].fd) < 0) files[i].err = errno ;
    fd_close(files[i].fd) ;
  }
  /* the unlink of an X must survive a crash before send removes the
     body: a state file back without its body cannot be delivered */
  for (unsigned int k = 0 ; k < nd ; k++)
    if (d[k] < 0)
    {
      char path[QUEUE_PATH_MAX] ;
      size_t n = queue_tree(path, k / auto_split, QUEUE_STATE) ;
      path[n++] = '/' ;
      path[n + uint_fmt(path + n, k % auto_split)] = 0 ;
      d[k] = fsx_syncdir(path) < 0 ? errno : 0 ;
      if (d[k]) strerr_warnwu2sys("fsync ", path) ;
    }
  for (unsigned int i = 0 ; i < npend ; i++)
  {
    struct pending *p = pend + i ;
    if (p->letter == 'A' && files[p->ref].err)
      record_reply('!', p->id, "unable to fsync state file", files[p->ref].err) ;
    else if (p->letter == 'x' && d[p->ref] > 0)
      record_reply('!', p->id, "unable to fsync state directory", d[p->ref]) ;
    else record_reply(p->letter, p->id, p->text, p->err) ;
  }
  memset(d, 0, nd * sizeof(int)) ;
  nfiles = npend = 0 ;
  if (record_out.len) record_flush() ;
}
