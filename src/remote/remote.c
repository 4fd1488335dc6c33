/* remote: delivers one message by SMTP to its recipients at one domain
   (send's job, through rspawn). Body on fd 0, a seekable file; writes
   one result per recipient as a record on fd 1; exits 0 once it has,
   100 on a usage error, 111 if it could not. See remote(8). */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "addr.h"
#include "control.h"
#include "home.h"
#include "remote.h"
#include "utf8.h"

#define USAGE "remote domain sender rcpt [rcpt ...]"

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

int main (int argc, char const *const *argv)
{
  remote_dest dest[REMOTE_ADDRS_MAX] ;
  unsigned int ndest ;
  int r ;
  PROG = "remote" ;
  if (argc < 4) strerr_dieusage(100, USAGE) ;
  if ((unsigned int)argc - 3 > REMOTE_RCPT_MAX) strerr_dief1x(100, "more than 100 recipients") ;
  ctx.domain = argv[1] ;
  ctx.sender = argv[2] ;
  ctx.n = argc - 3 ;
  if (!*ctx.domain || addr_check(ctx.domain, strlen(ctx.domain)) != ADDR_OK || addr_check(ctx.sender, strlen(ctx.sender)) != ADDR_OK)
    strerr_dief1x(100, "bad domain or sender") ;
  ctx.utf8env = utf8_any(ctx.sender, strlen(ctx.sender)) ;
  for (unsigned int i = 0 ; i < ctx.n ; i++)
  {
    ctx.rcpts[i].addr = argv[3 + i] ;
    if (utf8_any(argv[3 + i], strlen(argv[3 + i]))) ctx.utf8env = 1 ;
    if (!*argv[3 + i] || addr_check(argv[3 + i], strlen(argv[3 + i])) != ADDR_OK)
      strerr_dief1x(100, "bad recipient") ;
  }
  /* a server closing on us is a result, not a reason to die */
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  tain_now_set_stopwatch_g() ;
  tain_now_g() ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  config() ;
  r = remote_body_scan(&ctx) ;
  if (!r) strerr_diefu1sys(111, "read the message") ;

  ndest = r > 0 && remote_tlspolicy_get(&ctx) ? remote_dest_find(&ctx, dest, REMOTE_ADDRS_MAX) : 0 ;
  for (unsigned int i = 0 ; i < ndest ; i++)
    if (remote_smtp_session(&ctx, dest + i)) break ;
  if (!ctx.lasterr.len && !stralloc_cats(&ctx.lasterr, "4.4.1 no host could be reached")) ctx.lasterr.len = 0 ;
  if (!stralloc_0(&ctx.lasterr)) strerr_diefu1sys(111, "allocate") ;
  /* every address failed before a transaction: temporary, with the last
     reason, and marked as the destination's failure, not a recipient's */
  remote_result_site(&ctx, ctx.lasterr.s) ;
  if (!remote_result_write(&ctx)) strerr_diefu1sys(111, "write the results") ;
  if (close(1) < 0 && errno != EINTR) strerr_diefu1sys(111, "close the results") ;
  remote_smtp_quit() ;
  return 0 ;
}
