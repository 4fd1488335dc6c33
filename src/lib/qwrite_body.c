#include <errno.h>
#include <fcntl.h>
#include <skalibs/strerr.h>
#include "qexit.h"
#include "qwrite.h"

/* A root where the body cannot be created (full, read-only, gone) is
   set aside and the next one tried: one bad disk does not stop intake. */
int qwrite_body (qwrite_msg *m, int sub, unsigned int *cursor, unsigned long room)
{
  char path[QUEUE_PATH_MAX] ;
  unsigned int n = queue_roots() ;
  for (unsigned int t = 0 ; t < n ; t++)
  {
    int root = queue_root_pick(cursor, room) ;
    if (root < 0) break ;
    for (unsigned int i = 0 ; i < QWRITE_ID_TRIES ; i++)
    {
      if (sub >= 0) queue_id_make_in(m->id, (unsigned int)sub, (unsigned int)root) ;
      else queue_id_make(m->id, (unsigned int)root) ;
      queue_path(path, QUEUE_BODY, m->id) ;
      m->body = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640) ;
      if (m->body >= 0) { m->havebody = 1 ; return 1 ; }
      if (errno != EEXIST) break ;
    }
    /* the clock stuck on one id: another root would not help */
    if (errno == EEXIST) break ;
    if (n > 1)
    {
      /* said once a pause: the root is skipped until it ends */
      strerr_warnwu3sys("create ", path, ", trying another queue root") ;
      queue_root_failed((unsigned int)root) ;
    }
  }
  m->code = QX_BODY ;
  return 0 ;
}
