/* inject: sendmail for programs and users. Runs as its caller. Reads a
   message on fd 0, adds Date:, Message-ID: and From: if missing, drops
   Bcc:, and hands it with its envelope to the home's bin/queue-inject
   (setuid to the queue owner when installed). Writes nothing itself;
   errors on fd 2, sendmail's exit codes. */

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "inject.h"

static void timeout (int sig)
{
  static char const m[] = "inject: fatal: timed out after 86400 seconds\n" ;
  (void)sig ;
  allwrite(2, m, sizeof m - 1) ;
  _exit(INJECT_ETEMP) ;
}

int main (int argc, char const *const *argv)
{
  inject_opts o ;
  inject_conf c = INJECT_CONF_ZERO ;
  inject_rcpts r = INJECT_RCPTS_ZERO ;
  inject_head h = INJECT_HEAD_ZERO ;
  stralloc env = STRALLOC_ZERO ;
  PROG = "inject" ;
  inject_opts_parse(&o, argc, argv) ;
  if (o.mode != 'm') inject_mode_exec(o.mode) ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(INJECT_ETEMP, "ignore SIGPIPE") ;
  if (!sig_catch(SIGALRM, &timeout)) strerr_diefu1sys(INJECT_ETEMP, "catch SIGALRM") ;
  alarm(INJECT_LIFETIME) ;
  inject_conf_read(&c, &o) ;
  r.domain = c.domain.s ;
  r.badexit = INJECT_EUSAGE ;
  for (unsigned int i = 0 ; i < o.nrcpts ; i++)
    if (!inject_addrlist(o.rcpts[i], strlen(o.rcpts[i]), &inject_rcpt_add, &r))
      strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  r.badexit = INJECT_EDATA ;
  inject_header_read(&h, &o, &r) ;
  inject_rcpt_envelope(&env, &r, c.sender.s) ;
  if (!(h.has & INJECT_HAS_FROM)) inject_add_from(&h.out, &c) ;
  if (!(h.has & INJECT_HAS_DATE)) inject_add_date(&h.out) ;
  if (!(h.has & INJECT_HAS_MSGID)) inject_add_msgid(&h.out, &c) ;
  inject_queue(&h, o.dots, &env) ;
  return 0 ;
}
