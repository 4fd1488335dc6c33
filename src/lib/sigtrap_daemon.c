#include <signal.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include "sigtrap.h"

int sigtrap_daemon (void)
{
  sigset_t set ;
  int fd = selfpipe_init() ;
  if (fd < 0) return -1 ;
  sigemptyset(&set) ;
  sigaddset(&set, SIGCHLD) ; sigaddset(&set, SIGALRM) ; sigaddset(&set, SIGHUP) ;
  sigaddset(&set, SIGTERM) ; sigaddset(&set, SIGINT) ;
  if (!sig_ignore(SIGPIPE) || !selfpipe_trapset(&set)) return -1 ;
  return fd ;
}
