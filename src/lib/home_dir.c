#include <stdlib.h>
#include <unistd.h>
#include <sys/auxv.h>
#include "home.h"

/* AT_SECURE is set for setuid, setgid and capability-raised programs:
   their environment belongs to someone else and must not pick the home. */
char const *home_dir (void)
{
  char const *h ;
  if (getauxval(AT_SECURE) || getuid() != geteuid() || getgid() != getegid())
    return auto_home ;
  h = getenv("POSTERN_HOME") ;
  return h && *h ? h : auto_home ;
}
