#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include "qread.h"
#include "qscan.h"
#include "queue.h"

/* 1 read, 0 no such file, -1 with errno */
static int get (qread_msg *m, stralloc *sa, char const *tree, size_t max)
{
  char const *path = m->path ;
  int fd, r, e ;
  queue_path(m->path, tree, m->id) ;
  fd = open(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) return errno == ENOENT ? 0 : -1 ;
  r = qscan_read(fd, sa, max) ;
  e = errno ;
  fd_close(fd) ;
  errno = e ;
  return r ? 1 : -1 ;
}

static void body_size (qread_msg *m)
{
  char path[QUEUE_PATH_MAX] ;
  struct stat st ;
  queue_path(path, QUEUE_BODY, m->id) ;
  m->size = stat(path, &st) == 0 ? (unsigned long)st.st_size : 0 ;
}

/* The state file is whole unless record is writing it (its todo entry
   is then still there) or rewriting a field in place; when neither
   file gives a message, record may have sorted it between the two
   opens, so the pair is tried once more. */
int qread_load (qread_msg *m, stralloc *sa, char const *id)
{
  int bad = 0 ;
  m->id = id ;
  m->birth = queue_id_birth(id) ;
  for (unsigned int attempt = 0 ; attempt < 2 ; attempt++)
  {
    int r = get(m, sa, QUEUE_STATE, STATE_BYTES_MAX) ;
    if (r < 0 && errno != EFBIG) return -1 ;
    if (r > 0 && state_parse(&m->st, sa->s, sa->len))
    {
      m->unsorted = 0 ;
      m->s = sa->s ;
      m->size = m->st.size ;
      m->sender = m->st.sender ;
      m->nrcpts = m->st.nrcpts ;
      return 1 ;
    }
    bad = !r ? 0 : r > 0 ? EINVAL : EFBIG ;
    r = get(m, sa, QUEUE_TODO, QREAD_TODO_MAX) ;
    if (r < 0) { if (errno == EFBIG) return (errno = EFBIG, 0) ; return -1 ; }
    if (r > 0)
    {
      /* a todo file is renamed in whole: malformed stays malformed */
      if (!qread_todo_parse(m, sa->s, sa->len)) return (errno = EINVAL, 0) ;
      m->unsorted = 1 ;
      m->s = sa->s ;
      body_size(m) ;
      return 1 ;
    }
  }
  return (errno = bad ? bad : ENOENT, 0) ;
}
