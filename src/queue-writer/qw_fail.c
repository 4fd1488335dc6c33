#include "queue-writer.h"

void qw_fail (qw_client *c, int code)
{
  qwrite_abort(&c->m) ;
  qw_answer(c, code) ;
}
