#include <errno.h>
#include <pwd.h>
#include <skalibs/stralloc.h>
#include "resolve.h"

/* getpwnam says "no such entry" with a null errno or one of these
   (getpwnam(3)); any other errno is a failed lookup, to retry. */
static int notfound (int e)
{
  return !e || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM ;
}

int resolve_passwd (resolve_dest *d, char const *name)
{
  struct passwd *pw ;
  errno = 0 ;
  pw = getpwnam(name) ;
  if (!pw) return notfound(errno) ? 0 : -1 ;
  d->sa.len = 0 ;
  d->account = 0 ;
  if (!stralloc_cats(&d->sa, pw->pw_name) || !stralloc_0(&d->sa)) return -1 ;
  d->home = d->sa.len ;
  if (!stralloc_cats(&d->sa, pw->pw_dir) || !stralloc_0(&d->sa)) return -1 ;
  d->uid = pw->pw_uid ;
  d->gid = pw->pw_gid ;
  d->kind = RESOLVE_USER ;
  return 1 ;
}
