#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include "send-start.h"

void send_start_lookup (struct send_start_acct *a, char const *name)
{
  struct passwd *pw ;
  errno = 0 ;
  pw = getpwnam(name) ;
  if (!pw)
  {
    if (errno) strerr_diefu2sys(111, "look up account ", name) ;
    strerr_dief3x(111, "account ", name, " does not exist: see conf-users and INSTALL") ;
  }
  *a = (struct send_start_acct){ pw->pw_uid, pw->pw_gid, 1, name } ;
}

/* in a child before its exec: the account's groups (the shared group of
   conf-users among them), gid, uid, each checked, as s6-applyuidgid does */
void send_start_become (struct send_start_acct const *a)
{
  if (!a->set) return ;
  if (initgroups(a->name, a->gid) < 0 || setgid(a->gid) < 0 || setuid(a->uid) < 0)
    strerr_diefu1sys(111, "drop privileges") ;
  if (!getuid() || !geteuid()) strerr_dief1x(111, "still root after dropping privileges") ;
}
