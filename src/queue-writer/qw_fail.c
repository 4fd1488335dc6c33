#include "qexit.h"
#include "queue-writer.h"

void qw_fail (qw_client *c, int code)
{
  /* a write that failed on its disk sets that root aside a while */
  if (c->m.havebody && code == QX_WRITE) queue_root_failed(queue_id_root(c->m.id)) ;
  qwrite_abort(&c->m) ;
  qw_answer(c, code) ;
}
