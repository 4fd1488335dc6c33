/* queue-ctl: the operator's hand on the queue: remove, hold, release or
   retry now one message or a selection. Run by root or the queue owner;
   reads the queue as queue-list does, writes only hold markers
   (queue/hold/N/ID) and requests to send on the queue/ops FIFO, which
   send applies itself; prints one line per message on fd 1.
   queue-ctl(8). */

#include <string.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include "accounts.h"
#include "home.h"
#include "qctl.h"
#include "queue.h"

#define USAGE "queue-ctl -d | -h | -H | -r [ -a ] [ -s substring ] [ -f sender ] [ -t recipient ] [ -D domain ] [ id ... ]"
/* seconds a run may take: writing to a FIFO send no longer reads blocks */
#define QCTL_LIFETIME 600

static void parse (struct qctl_opts *o, int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "dhHras:f:t:D:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'd' : case 'h' : case 'H' : case 'r' :
        if (o->action && o->action != opt) strerr_dief1x(100, "one of -d, -h, -H, -r at a time") ;
        o->action = (char)opt ;
        break ;
      case 'a' : o->all = 1 ; break ;
      case 's' : o->any = l.arg ; break ;
      case 'f' : o->from = l.arg ; break ;
      case 't' : o->to = l.arg ; break ;
      case 'D' : o->domain = l.arg ; break ;
      default : strerr_dieusage(100, USAGE) ;
    }
  }
  o->ids = argv + l.ind ;
  o->nids = (unsigned int)(argc - l.ind) ;
  if (!o->action) strerr_dieusage(100, USAGE) ;
  /* a selection is never implied: all messages only with -a */
  if (o->nids && (o->all || o->any || o->from || o->to || o->domain))
    strerr_dief1x(100, "ids or a selection (-a, -s, -f, -t, -D), not both") ;
  if (!o->nids && !o->all && !o->any && !o->from && !o->to && !o->domain)
    strerr_dief1x(100, "nothing selected: give ids, a filter, or -a for every message") ;
  for (unsigned int i = 0 ; i < o->nids ; i++)
    if (!queue_id_valid(o->ids[i])) strerr_dief2x(100, "not a message id: ", o->ids[i]) ;
}

static char const *verb (char action)
{
  switch (action)
  {
    case QCTL_REMOVE : return "remove " ;
    case QCTL_HOLD : return "hold " ;
    case QCTL_RELEASE : return "release " ;
    default : return "retry " ;
  }
}

int main (int argc, char const *const *argv)
{
  struct qctl_opts o = { 0, 0, 0, 0, 0, 0, 0, 0 } ;
  stralloc sel = STRALLOC_ZERO ;
  unsigned int missing ;
  int running ;
  PROG = "queue-ctl" ;
  parse(&o, argc, argv) ;
  alarm(QCTL_LIFETIME) ;
  if (chdir(home_dir()) < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  if (!qread_allowed())
    strerr_dief3x(100, "only root or the queue owner (", auto_user_queue, ") may change the queue") ;
  missing = qctl_select(&o, &sel) ;
  /* the marker first: a hold survives send's restart even if this
     request is lost with it; a release's marker goes first likewise */
  if (o.action == QCTL_HOLD || o.action == QCTL_RELEASE) qctl_mark(&sel, o.action == QCTL_HOLD) ;
  running = sel.len ? qctl_request(o.action, &sel) : 1 ;
  qctl_mark_sweep() ;
  if (!running && (o.action == QCTL_REMOVE || o.action == QCTL_RETRY))
    strerr_dief1x(111, "send is not running: nothing was done") ;
  for (size_t i = 0 ; i < sel.len ; i += strlen(sel.s + i) + 1)
    if (!buffer_puts(buffer_1, verb(o.action)) || !buffer_puts(buffer_1, sel.s + i) || !buffer_puts(buffer_1, "\n"))
      strerr_diefu1sys(111, "write to stdout") ;
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  if (!running) strerr_warnw1x("send is not running: it applies this when it starts") ;
  return missing ? 100 : 0 ;
}
