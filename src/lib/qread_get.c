#include <errno.h>
#include <skalibs/strerr.h>
#include "qread.h"

int qread_get (qread_msg *m, stralloc *sa, char const *id)
{
  int r = qread_load(m, sa, id) ;
  if (r < 0) strerr_diefu2sys(111, "read ", m->path) ;
  if (r) return 1 ;
  if (errno == EINVAL) strerr_warnw3x("skipped ", id, ": its queue files are malformed") ;
  else if (errno == EFBIG) strerr_warnw3x("skipped ", id, ": a file over its size bound") ;
  return 0 ;
}
