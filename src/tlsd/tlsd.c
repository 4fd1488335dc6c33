/* tlsd: the TLS engine of UCSPI-TLS (tlsd(8)). Engine (-e): fds 0/1 the
   network, 3 the control socket, 4 clear text from the application, 5 to
   it; after a Y on fd 3, the server handshake, the environment block on
   fd 3, then the relay. Daemon (-d): the same engines, forked from one
   process that set TLS up once, for the fds smtpd passes over a unix
   socket. Launcher: makes those fds, forks the engine, execs prog with
   SSLCTLFD, SSLREADFD, SSLWRITEFD. Runs as the tls account (setuid, -U/-G,
   or the service's s6-setuidgid): the only process that reads the keys. */

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "tlsd.h"

#define USAGE "tlsd -e [ -U uid -G gid ] [ -t secs ] | tlsd -d socket [ -c max ] [ -t secs ] | tlsd [ -u uid -g gid ] [ -U uid -G gid ] [ -t secs ] prog..."

static void ids (struct tlsd_ids *i, char const *s, int isgid)
{
  unsigned int n ;
  if (!uint0_scan(s, &n)) strerr_dieusage(100, USAGE) ;
  if (isgid) i->gid = n ; else i->uid = n ;
  i->set |= isgid ? 2 : 1 ;
}

static char const *daemon_path = 0 ;
static unsigned int daemon_max = TLSD_DAEMON_MAX ;

static int parse (struct tlsd_opts *o, int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  int engine = 0 ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "ed:c:t:u:g:U:G:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'e' : engine = 1 ; break ;
      case 'd' : engine = 1 ; daemon_path = l.arg ; break ;
      case 'c' :
        if (!uint0_scan(l.arg, &daemon_max) || !daemon_max) strerr_dief1x(100, "-c: a number of engines, at least 1") ;
        break ;
      case 't' :
        if (!uint0_scan(l.arg, &o->timeout) || !o->timeout) strerr_dief1x(100, "-t: a number of seconds, at least 1") ;
        break ;
      case 'u' : ids(&o->app, l.arg, 0) ; break ;
      case 'g' : ids(&o->app, l.arg, 1) ; break ;
      case 'U' : ids(&o->engine, l.arg, 0) ; break ;
      case 'G' : ids(&o->engine, l.arg, 1) ; break ;
      default : strerr_dieusage(100, USAGE) ;
    }
  }
  if ((o->app.set && o->app.set != 3) || (o->engine.set && o->engine.set != 3))
    strerr_dief1x(100, "-u goes with -g, -U with -G") ;
  if ((o->app.set || o->engine.set) && getuid() != geteuid())
    strerr_dief1x(100, "-u, -g, -U, -G are for root: a setuid tlsd takes its ids from the kernel") ;
  if (engine ? argc > l.ind || o->app.set : argc <= l.ind) strerr_dieusage(100, USAGE) ;
  return engine ? 0 : (int)l.ind ;
}

int main (int argc, char const *const *argv)
{
  struct tlsd_opts o = { .timeout = TLSD_HANDSHAKE_DEFAULT } ;
  int prog ;
  PROG = "tlsd" ;
  prog = parse(&o, argc, argv) ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  if (prog) tlsd_launch(&o, argv + prog) ;
  else tlsd_become_engine(&o.engine) ;
  if (daemon_path) return tlsd_daemon(daemon_path, daemon_max, o.timeout) ;
  return tlsd_engine(0, o.timeout) ;
}
