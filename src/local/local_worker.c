/* local -w: a delivery worker. lspawn starts it as one account, never
   root, with a SOCK_SEQPACKET socket on fd 0 and its log on fds 1 and
   2. It takes the requests waiting (at most LDELIVER_BATCH_MAX), makes
   each delivery as one-shot local would (the body moved to fd 0, cwd
   the delivery's home), fsyncs the Maildir new/ directories they
   linked into once, then answers each in order. Ends at end of file,
   after LDELIVER_USES_MAX deliveries, or idle LOCAL_WORKER_IDLE s. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "ldeliver.h"
#include "local.h"

/* seconds without a request: lspawn closes an idle worker's socket
   after a few seconds, so this only bounds a worker whose lspawn hangs */
#define LOCAL_WORKER_IDLE 600

typedef struct slot_s slot ;
struct slot_s
{
  int code ;
  stralloc out ;
} ;

static slot slots[LDELIVER_BATCH_MAX] ;
static char req[LDELIVER_REQ_MAX + 1] ;
static int null = -1 ;  /* on fd 0 between deliveries: no body kept open */

static void answer (int sock, int code, stralloc *out)
{
  char fmt[UINT_FMT] ;
  size_t n = uint_fmt(fmt, (unsigned int)code) ;
  if (out->len > LDELIVER_TEXT_MAX) out->len = LDELIVER_TEXT_MAX ;
  fmt[n++] = 0 ;
  if (!stralloc_insertb(out, 0, fmt, n) || !stralloc_0(out)) strerr_diefu1sys(111, "allocate") ;
  if (send(sock, out->s, out->len, MSG_NOSIGNAL) < 0) strerr_diefu1sys(111, "answer lspawn") ;
}

/* one request: 1 delivered (or refused with an answer), 0 none now,
   -1 end of file */
static int one (int sock, unsigned int i, int wait)
{
  char const *f[LDELIVER_FIELDS] ;
  int body ;
  int r = ldeliver_get(sock, req, f, &body, wait ? 0 : MSG_DONTWAIT) ;
  slot *s = slots + i ;
  s->out.len = 0 ;
  if (!r) return -1 ;
  if (r < 0)
  {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0 ;
    if (errno != EPROTO) strerr_diefu1sys(111, "read a request") ;
    s->code = local_say(&s->out, LOCAL_TEMP, "4.3.0 local: malformed request from lspawn", "", "") ;
    return 1 ;
  }
  local_sync_current(i) ;
  if (fd_move(0, body) < 0) s->code = local_temp(&s->out, "move the message to fd 0", "") ;
  else if (chdir(f[1]) < 0) s->code = local_temp(&s->out, "chdir to ", f[1]) ;
  else s->code = local_deliver(f, 0, &s->out) ;
  if (dup2(null, 0) < 0) strerr_diefu1sys(111, "put /dev/null on fd 0") ;
  return 1 ;
}

int local_worker (void)
{
  stralloc junk = STRALLOC_ZERO ;
  unsigned int uses = 0 ;
  int sock ;
  PROG = "local -w" ;
  if (!getuid() || !geteuid()) strerr_dief1x(100, "refusing to run as root") ;
  sock = fcntl(0, F_DUPFD_CLOEXEC, 3) ;
  if (sock < 0) strerr_diefu1sys(111, "move the socket") ;
  null = open("/dev/null", O_RDONLY | O_CLOEXEC) ;
  if (null < 0 || dup2(null, 0) < 0) strerr_diefu1sys(111, "open /dev/null") ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  while (uses < LDELIVER_USES_MAX)
  {
    struct pollfd p = { .fd = sock, .events = POLLIN } ;
    unsigned int n = 0 ;
    int r = poll(&p, 1, LOCAL_WORKER_IDLE * 1000) ;
    if (r < 0) { if (errno == EINTR) continue ; strerr_diefu1sys(111, "poll") ; }
    if (!r) break ;
    local_sync_group(1) ;
    while (n < LDELIVER_BATCH_MAX && uses + n < LDELIVER_USES_MAX)
    {
      r = one(sock, n, !n) ;
      if (r <= 0) break ;
      n++ ;
    }
    /* every new/ entry of the group durable before any answer */
    local_sync_current(LDELIVER_BATCH_MAX) ;
    local_sync_flush(&junk) ;
    for (unsigned int i = 0 ; i < n ; i++)
    {
      char const *e = local_sync_failed(i) ;
      if (e && slots[i].code != LOCAL_TEMP)
        slots[i].code = local_say(&slots[i].out, LOCAL_TEMP, e, "", "") ;
      answer(sock, slots[i].code, &slots[i].out) ;
    }
    uses += n ;
    if (r < 0) break ;
  }
  return 0 ;
}
