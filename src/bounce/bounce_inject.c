#include <errno.h>
#include <string.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "bounce.h"
#include "envelope.h"
#include "qexit.h"
#include "qinject.h"

void bounce_inject (char const *id, char const *msg, size_t msglen, char const *sender, char const *rcpt)
{
  stralloc env = STRALLOC_ZERO ;
  char fmt[UINT_FMT] ;
  qinject q ;
  int sent, code ;
  if (!env_put(&env, 'F', sender, strlen(sender)) || !env_put(&env, 'T', rcpt, strlen(rcpt))
   || !stralloc_0(&env))
    strerr_diefu1sys(111, "allocate") ;
  if (!qinject_start(&q, -1, -1)) strerr_diefu1sys(111, "start queue-inject") ;
  /* after a short write (EPIPE: queue-inject is gone) no envelope is
     sent, so a queue-inject still there refuses the cut message */
  sent = qinject_write(&q, msg, msglen) == msglen ;
  if (!sent && errno != EPIPE) strerr_warnwu1sys("write the message to queue-inject") ;
  code = qinject_finish(&q, sent ? env.s : 0, env.len) ;
  if (code < 0) strerr_diefu1sys(111, "wait for queue-inject") ;
  if (code > 255)
  {
    fmt[uint_fmt(fmt, code - 256)] = 0 ;
    strerr_dief4x(111, "unable to queue the notice for ", id, ": queue-inject killed by signal ", fmt) ;
  }
  if (code)
  {
    fmt[uint_fmt(fmt, code)] = 0 ;
    strerr_dief6x(111, "unable to queue the notice for ", id, ": queue-inject exited ", fmt,
                  ": ", qexit_lookup(code)->text) ;
  }
  stralloc_free(&env) ;
}
