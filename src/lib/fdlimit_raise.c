#include <sys/resource.h>
#include <skalibs/strerr.h>
#include "fdlimit.h"

void fdlimit_raise (unsigned long want)
{
  struct rlimit rl ;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) strerr_diefu1sys(111, "getrlimit") ;
  if (rl.rlim_cur >= want) return ;
  rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want ;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) strerr_warnwu1sys("raise the descriptor limit") ;
}
