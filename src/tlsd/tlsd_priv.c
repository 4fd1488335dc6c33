#include <grp.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include "tlsd.h"

/* root: the given ids, groups reduced to gid (setgroups, setgid, setuid,
   as s6-applyuidgid), never root afterwards */
static void become (struct tlsd_ids const *i, char const *who)
{
  if (setgroups(1, &i->gid) < 0 || setgid(i->gid) < 0 || setuid(i->uid) < 0)
    strerr_diefu3sys(111, "set the ", who, " ids") ;
  if (!getuid() || !geteuid()) strerr_dief3x(100, "the ", who, " must not run as root: see -u, -U") ;
}

/* setuid: all three uids (and gids) the same, so that nothing can switch
   back: the engine to the effective ids, the application to the real ones */
static void wholly (uid_t u, gid_t g, char const *who)
{
  if (setresgid(g, g, g) < 0 || setresuid(u, u, u) < 0)
    strerr_diefu3sys(111, "set the ", who, " ids") ;
}

void tlsd_become_engine (struct tlsd_ids const *i)
{
  if (getuid() != geteuid() || getgid() != getegid()) wholly(geteuid(), getegid(), "engine") ;
  else if (i->set) become(i, "engine") ;
}

void tlsd_become_app (struct tlsd_ids const *i)
{
  if (getuid() != geteuid() || getgid() != getegid()) wholly(getuid(), getgid(), "application") ;
  else if (i->set) become(i, "application") ;
}
