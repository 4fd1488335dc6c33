#include <errno.h>
#include <fcntl.h>
#include "qexit.h"
#include "qwrite.h"

int qwrite_body (qwrite_msg *m, int sub)
{
  char path[QUEUE_PATH_MAX] ;
  for (unsigned int i = 0 ; i < QWRITE_ID_TRIES ; i++)
  {
    if (sub >= 0) queue_id_make_in(m->id, (unsigned int)sub) ;
    else queue_id_make(m->id) ;
    queue_path(path, QUEUE_BODY, m->id) ;
    m->body = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640) ;
    if (m->body >= 0) { m->havebody = 1 ; return 1 ; }
    if (errno != EEXIST) break ;
  }
  m->code = QX_BODY ;
  return 0 ;
}
