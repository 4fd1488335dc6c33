#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "fsx.h"
#include "qexit.h"
#include "qwrite.h"

/* what a descriptor of the commit is */
enum what { W_BODY, W_INTAKE, W_BODYDIR, W_TODODIR } ;

struct ent
{
  int fd ;
  unsigned int msg ;
  enum what what ;
} ;

static char const *const treeof[] = { QUEUE_BODY, QUEUE_INTAKE, QUEUE_BODY, QUEUE_TODO } ;

/* same root, same subdirectory */
static int same_dir (char const *a, char const *b)
{
  return queue_hash(a) == queue_hash(b) && queue_id_root(a) == queue_id_root(b) ;
}

/* every message still good in msg's subdirectory gets code */
static void fail_dir (qwrite_msg *m, unsigned int n, unsigned int msg, int code)
{
  for (unsigned int i = 0 ; i < n ; i++)
    if (i != msg && !m[i].code && same_dir(m[i].id, m[msg].id)) m[i].code = code ;
  if (!m[msg].code) m[msg].code = code ;
}

/* the first good message of subdirectory of i, before i? */
static int dir_seen (qwrite_msg const *m, unsigned int i, int visible)
{
  for (unsigned int j = 0 ; j < i ; j++)
    if (!m[j].code && m[j].visible == visible && same_dir(m[j].id, m[i].id)) return 1 ;
  return 0 ;
}

static void warn (enum what w, char const *id, int subdir)
{
  char path[QUEUE_PATH_MAX] ;
  if (subdir) queue_subdir(path, treeof[w], id) ;
  else queue_path(path, treeof[w], id) ;
  strerr_warnwu2sys("fsync ", path) ;
}

/* fsyncs the entries in one go, then sets the codes of their failures */
static unsigned int sync_ents (qwrite_msg *m, unsigned int n, struct ent *e, unsigned int k, unsigned int par)
{
  int fds[3 * n] ;
  int errs[3 * n] ;
  if (!k) return 0 ;
  for (unsigned int i = 0 ; i < k ; i++) fds[i] = e[i].fd ;
  qwrite_syncall(fds, errs, k, par) ;
  for (unsigned int i = 0 ; i < k ; i++)
  {
    qwrite_msg *x = m + e[i].msg ;
    if (e[i].what == W_BODY) x->body = -1 ;
    else if (e[i].what == W_INTAKE) x->intake = -1 ;
    fd_close(e[i].fd) ;
    if (!errs[i]) continue ;
    errno = errs[i] ;
    warn(e[i].what, x->id, e[i].what >= W_BODYDIR) ;
    if (e[i].what == W_BODYDIR) fail_dir(m, n, e[i].msg, QX_BODY) ;
    else if (e[i].what == W_TODODIR) fail_dir(m, n, e[i].msg, QX_TODO) ;
    else if (!x->code) x->code = QX_WRITE ;
  }
  return k ;
}

static int open_dir (struct ent *e, qwrite_msg *m, unsigned int n, unsigned int i, enum what w)
{
  char dir[QUEUE_PATH_MAX] ;
  queue_subdir(dir, treeof[w], m[i].id) ;
  e->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (e->fd < 0)
  {
    strerr_warnwu2sys("open ", dir) ;
    fail_dir(m, n, i, w == W_BODYDIR ? QX_BODY : QX_TODO) ;
    return 0 ;
  }
  e->msg = i ; e->what = w ;
  return 1 ;
}

/* The order is the crash safety (postern-queue(5)): files and the
   body's directory entries on disk before anything names them in todo;
   the todo entry on disk before the caller answers 0. Each directory
   touched is fsynced once for the whole group. */
unsigned int qwrite_commit (qwrite_msg *m, unsigned int n, unsigned int par)
{
  struct ent e[3 * n + 1] ;
  unsigned char good[n] ;
  unsigned int k = 0, visible = 0, syncs ;
  if (!n) return 0 ;
  for (unsigned int i = 0 ; i < n ; i++) good[i] = !m[i].code ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    if (m[i].code) continue ;
    e[k].fd = m[i].body ; e[k].msg = i ; e[k++].what = W_BODY ;
    e[k].fd = m[i].intake ; e[k].msg = i ; e[k++].what = W_INTAKE ;
  }
  for (unsigned int i = 0 ; i < n ; i++)
    if (!m[i].code && !dir_seen(m, i, 0) && open_dir(e + k, m, n, i, W_BODYDIR)) k++ ;
  syncs = sync_ents(m, n, e, k, par) ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    char from[QUEUE_PATH_MAX], to[QUEUE_PATH_MAX] ;
    if (m[i].code) continue ;
    queue_path(from, QUEUE_INTAKE, m[i].id) ;
    queue_path(to, QUEUE_TODO, m[i].id) ;
    if (fsx_rename(from, to) < 0)
    {
      strerr_warnwu4sys("rename ", from, " to ", to) ;
      m[i].code = QX_TODO ;
      continue ;
    }
    m[i].visible = 1 ; m[i].haveintake = 0 ; m[i].havebody = 0 ;
    visible++ ;
  }
  k = 0 ;
  for (unsigned int i = 0 ; i < n ; i++)
    if (!m[i].code && !dir_seen(m, i, 1) && open_dir(e + k, m, n, i, W_TODODIR)) k++ ;
  syncs += sync_ents(m, n, e, k, par) ;
  /* a disk that failed a commit gets the next messages only later */
  for (unsigned int i = 0 ; i < n ; i++)
    if (good[i] && m[i].code) queue_root_failed(queue_id_root(m[i].id)) ;
  if (visible) queue_trigger_poke() ;
  return syncs ;
}
