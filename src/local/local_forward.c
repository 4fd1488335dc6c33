#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "envelope.h"
#include "home.h"
#include "local.h"
#include "qexit.h"
#include "qinject.h"

/* One queue-inject run for all the addresses: the copy (Delivered-To on
   top) on its fd 0, the envelope (original sender) on its fd 1. Its
   stderr goes to /dev/null: our one output line must start with a
   status, and its exit code says the cause (qexit.h). */
int local_forward (local_ctx const *c, char const *addrs, size_t len, unsigned int n, stralloc *t)
{
  /* kept from one delivery to the next (a worker makes many): reset here */
  static stralloc env = STRALLOC_ZERO ;
  qexit_info const *q ;
  qinject qi ;
  int fd, null, code ;
  char num[UINT_FMT] ;
  env.len = 0 ;
  if (!env_put(&env, 'F', c->sender, strlen(c->sender))) return local_temp(t, "allocate", "") ;
  for (size_t i = 0 ; i < len ; i += strlen(addrs + i) + 1)
    if (!env_put(&env, 'T', addrs + i, strlen(addrs + i))) return local_temp(t, "allocate", "") ;
  if (!stralloc_0(&env)) return local_temp(t, "allocate", "") ;
  fd = local_memfd(c->lines.s + c->rplen, c->lines.len - c->rplen, t) ;
  if (fd < 0) return LOCAL_TEMP ;
  null = open("/dev/null", O_WRONLY | O_CLOEXEC) ;
  if (null < 0) { fd_close(fd) ; return local_temp(t, "open ", "/dev/null") ; }
  code = qinject_start(&qi, fd, null) ;
  fd_close(fd) ; fd_close(null) ;
  if (!code) return local_temp(t, "start ", "queue-inject") ;
  code = qinject_finish(&qi, env.s, env.len) ;
  if (code < 0) return local_temp(t, "wait for ", "queue-inject") ;
  if (code > 255) return local_say(t, LOCAL_TEMP, "4.3.0 forward failed: ", "queue-inject", " crashed") ;
  q = qexit_lookup(code) ;
  if (code)
  {
    local_say(t, LOCAL_TEMP, q->status, " forward failed: queue-inject: ", q->text) ;
    return qexit_permanent(code) ? LOCAL_PERM : LOCAL_TEMP ;
  }
  num[uint_fmt(num, n)] = 0 ;
  local_say(t, LOCAL_OK, "forwarded to ", num, n == 1 ? " address: " : " addresses: ") ;
  for (size_t i = 0 ; i < len && t->len < LOCAL_TEXT_MAX ; i += strlen(addrs + i) + 1)
    if (!stralloc_cats(t, addrs + i) || (i + strlen(addrs + i) + 1 < len && !stralloc_cats(t, " "))) break ;
  return LOCAL_OK ;
}
