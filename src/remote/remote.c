/* remote: delivers one message by SMTP to its recipients at one domain
   (send's job, through rspawn). Body on fd 0, a seekable file; writes
   one result per recipient as a record on fd 1; exits 0 once it has,
   100 on a usage error, 111 if it could not. With -w (rspawn's worker)
   jobs and bodies come over a socket on fd 0 and 1, each answered
   there, and the connection is kept between them. See remote(8). */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "addr.h"
#include "control.h"
#include "home.h"
#include "remote.h"
#include "utf8.h"
#include "wpool.h"

#define USAGE "remote domain sender rcpt [rcpt ...] | remote -w"
/* a job on the socket: domain, sender and recipients, each NUL-ended */
#define REMOTE_JOB_MAX ((2 + REMOTE_RCPT_MAX) * (ADDR_MAX + 1))

static remote_ctx ctx ;

static unsigned int setting (char const *name, unsigned long def)
{
  unsigned long u ;
  if (control_readuint(&u, name, def) < 0) strerr_diefu2sys(111, "read control/", name) ;
  if (!u) u = 1 ;
  if (u > 86400) u = 86400 ;
  return u ;
}

static void config (void)
{
  int r = control_readline(&ctx.me, "me") ;
  if (r < 0) strerr_diefu1sys(111, "read control/me") ;
  if (!r || !ctx.me.len)
  {
    struct utsname u ;
    if (uname(&u) < 0) strerr_diefu1sys(111, "get the host name") ;
    ctx.me.len = 0 ;
    if (!stralloc_cats(&ctx.me, u.nodename)) strerr_diefu1sys(111, "allocate") ;
  }
  if (!stralloc_0(&ctx.me)) strerr_diefu1sys(111, "allocate") ;
  ctx.timeoutconnect = setting("timeoutconnect", 60) ;
  ctx.timeoutremote = setting("timeoutremote", 1200) ;
  ctx.timeoutdns = setting("timeoutdns", 30) ;
  ctx.timeoutsession = setting("timeoutsession", 1200) ;
}

/* the job's words, as argv's after the program's name: 0 if not one */
static int job_args (char const *const *v, unsigned int n)
{
  if (n < 3 || n - 2 > REMOTE_RCPT_MAX) return 0 ;
  ctx.domain = v[0] ;
  ctx.sender = v[1] ;
  ctx.n = n - 2 ;
  if (!*ctx.domain || addr_check(ctx.domain, strlen(ctx.domain)) != ADDR_OK || addr_check(ctx.sender, strlen(ctx.sender)) != ADDR_OK)
    return 0 ;
  ctx.utf8env = utf8_any(ctx.sender, strlen(ctx.sender)) ;
  for (unsigned int i = 0 ; i < ctx.n ; i++)
  {
    remote_rcpt *r = ctx.rcpts + i ;
    r->addr = v[2 + i] ;
    r->status = r->accepted = 0 ;
    r->text.len = 0 ;
    if (utf8_any(r->addr, strlen(r->addr))) ctx.utf8env = 1 ;
    if (!*r->addr || addr_check(r->addr, strlen(r->addr)) != ADDR_OK) return 0 ;
  }
  return 1 ;
}

/* one job: every recipient decided. On the kept connection if it can
   take it, else (or if it died while kept) a new session as for a
   first job. */
static void deliver (void)
{
  remote_dest dest[REMOTE_ADDRS_MAX] ;
  unsigned int ndest = 0 ;
  int r ;
  ctx.lasterr.len = 0 ;
  tain_now_g() ;
  /* -1: every recipient already decided (DKIM could not sign) */
  r = remote_body_scan(&ctx) ;
  if (!r) strerr_diefu1sys(111, "read the message") ;
  if (r > 0 && remote_tlspolicy_get(&ctx) && !remote_smtp_reuse(&ctx))
  {
    ndest = remote_dest_find(&ctx, dest, REMOTE_ADDRS_MAX) ;
    for (unsigned int i = 0 ; i < ndest ; i++)
      if (remote_smtp_session(&ctx, dest + i)) break ;
  }
  if (!ctx.lasterr.len && !stralloc_cats(&ctx.lasterr, "4.4.1 no host could be reached")) ctx.lasterr.len = 0 ;
  if (!stralloc_0(&ctx.lasterr)) strerr_diefu1sys(111, "allocate") ;
  /* every address failed before a transaction: temporary, with the last
     reason, and marked as the destination's failure, not a recipient's */
  remote_result_site(&ctx, ctx.lasterr.s) ;
}

/* the next job on fd 1 with its body, put on fd 0; 0 at end of file.
   While waiting, a kept connection the server closes or speaks on
   (a 421 at its idle timeout) is dropped: the next job makes a new one. */
static int next_job (void)
{
  static char buf[REMOTE_JOB_MAX] ;
  char const *v[2 + REMOTE_RCPT_MAX] ;
  unsigned int n = 0 ;
  size_t pos = 0 ;
  ssize_t r ;
  int body ;
  for (;;)
  {
    iopause_fd x[2] = { { .fd = 1, .events = IOPAUSE_READ }, { .fd = remote_smtp_kept(), .events = IOPAUSE_READ } } ;
    if (iopause_g(x, x[1].fd >= 0 ? 2 : 1, 0) < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(111, "iopause") ;
    }
    if (x[0].revents) break ;
    if (x[1].fd >= 0 && x[1].revents) remote_smtp_drop() ;
  }
  r = wpool_recvfd(1, &body, buf, sizeof buf, 0) ;
  if (!r) return 0 ;
  if (r < 0) strerr_diefu1sys(111, "read a job") ;
  if (body < 0) strerr_dief1x(111, "a job without its message") ;
  if (fd_move(0, body) < 0) strerr_diefu1sys(111, "move the message to fd 0") ;
  if (buf[r - 1]) strerr_dief1x(111, "malformed job") ;
  while (pos < (size_t)r && n < 2 + REMOTE_RCPT_MAX)
  {
    v[n++] = buf + pos ;
    pos += strlen(buf + pos) + 1 ;
  }
  if (pos < (size_t)r || !job_args(v, n)) strerr_dief1x(111, "malformed job") ;
  return 1 ;
}

/* rspawn's worker: each answer is "I" (the connection is kept, another
   job may come) or "E" (it ends), then the record */
static void worker (void)
{
  while (next_job())
  {
    int keep ;
    deliver() ;
    keep = remote_smtp_kept() >= 0 ;
    if (!remote_result_write(&ctx, keep ? 'I' : 'E')) strerr_diefu1sys(111, "write the results") ;
    if (!keep) break ;
  }
}

int main (int argc, char const *const *argv)
{
  int w = argc == 2 && !strcmp(argv[1], "-w") ;
  PROG = "remote" ;
  if (!w)
  {
    if (argc < 4) strerr_dieusage(100, USAGE) ;
    if ((unsigned int)argc - 3 > REMOTE_RCPT_MAX) strerr_dief1x(100, "more than 100 recipients") ;
    if (!job_args(argv + 1, argc - 1)) strerr_dief1x(100, "bad domain, sender or recipient") ;
  }
  /* a server closing on us is a result, not a reason to die */
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  tain_now_set_stopwatch_g() ;
  tain_now_g() ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  config() ;
  if (w) worker() ;
  else
  {
    deliver() ;
    if (!remote_result_write(&ctx, 0)) strerr_diefu1sys(111, "write the results") ;
  }
  if (close(1) < 0 && errno != EINTR) strerr_diefu1sys(111, "close the results") ;
  remote_smtp_quit() ;
  return 0 ;
}
