#include <errno.h>
#include <fcntl.h>
#include <skalibs/allreadwrite.h>
#include "qexit.h"
#include "qwrite.h"

int qwrite_intake (qwrite_msg *m, char const *s, size_t len)
{
  char path[QUEUE_PATH_MAX] ;
  queue_path(path, QUEUE_INTAKE, m->id) ;
  /* the id is ours (its body was made O_EXCL): a same-named intake file
     can only be a crashed run's leftover */
  m->intake = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640) ;
  if (m->intake < 0) { m->code = QX_INTAKE ; return 0 ; }
  m->haveintake = 1 ;
  if (allwrite(m->intake, s, len) < len) { m->code = QX_WRITE ; return 0 ; }
  return 1 ;
}
