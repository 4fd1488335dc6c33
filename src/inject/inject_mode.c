#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "home.h"
#include "inject.h"

/* sendmail's other modes, by the home's own programs: -bp is mailq,
   queue-list (which lets only root and the queue owner read the queue);
   -bs is a local SMTP session, smtpd on fds 0 and 1 as a client of
   127.0.0.1 with RELAYCLIENT set, the environment tcpserver's rules
   give a local client (as sendmail -bs treats its caller), and
   NORCPTCHECK, as the caller may not read the user tables: local names
   are checked at delivery, as for inject's other modes */
void inject_mode_exec (char mode)
{
  stralloc path = STRALLOC_ZERO ;
  char const *prog = mode == 'p' ? "/bin/queue-list" : "/bin/smtpd" ;
  char const *argv[2] = { 0, 0 } ;
  if (!stralloc_cats(&path, home_dir()) || !stralloc_cats(&path, prog) || !stralloc_0(&path))
    strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  if (mode == 's'
   && (setenv("PROTO", "TCP", 1) < 0 || setenv("TCPREMOTEIP", "127.0.0.1", 1) < 0
    || setenv("TCPLOCALIP", "127.0.0.1", 1) < 0 || setenv("RELAYCLIENT", "", 1) < 0
    || setenv("NORCPTCHECK", "1", 1) < 0))
    strerr_diefu1sys(INJECT_ETEMP, "set the environment") ;
  argv[0] = path.s ;
  execv(path.s, (char *const *)argv) ;
  strerr_dieexec(INJECT_ETEMP, path.s) ;
}
