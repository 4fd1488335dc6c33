#include <skalibs/stralloc.h>
#include "control.h"
#include "home.h"
#include "local.h"

/* control_readline() opens control/name relative to the cwd; local's cwd
   is the recipient's home, so it builds the absolute path instead */
int local_control_readline (stralloc *sa, char const *name)
{
  stralloc path = STRALLOC_ZERO ;
  int r ;
  if (!stralloc_cats(&path, home_dir()) || !stralloc_cats(&path, "/" CONTROL_DIR "/")
   || !stralloc_cats(&path, name) || !stralloc_0(&path))
  {
    stralloc_free(&path) ;
    return -1 ;
  }
  r = control_readfile(sa, path.s) ;
  stralloc_free(&path) ;
  return r ;
}
