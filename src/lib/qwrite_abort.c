#include <unistd.h>
#include <skalibs/djbunix.h>
#include "qwrite.h"

/* Before the rename nothing is visible to send: remove what we made.
   After it, the message belongs to send and is never touched. */
void qwrite_abort (qwrite_msg *m)
{
  char path[QUEUE_PATH_MAX] ;
  if (m->body >= 0) { fd_close(m->body) ; m->body = -1 ; }
  if (m->intake >= 0) { fd_close(m->intake) ; m->intake = -1 ; }
  if (m->visible) return ;
  if (m->haveintake) { queue_path(path, QUEUE_INTAKE, m->id) ; unlink(path) ; m->haveintake = 0 ; }
  if (m->havebody) { queue_path(path, QUEUE_BODY, m->id) ; unlink(path) ; m->havebody = 0 ; }
}
