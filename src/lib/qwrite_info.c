#include <skalibs/types.h>
#include "qwrite.h"

int qwrite_info (stralloc *sa, uid_t uid, pid_t pid)
{
  char field[UINT64_FMT + 1] ;
  field[0] = 'u' ;
  if (!stralloc_catb(sa, field, 1 + uid_fmt(field + 1, uid)) || !stralloc_0(sa)) return 0 ;
  field[0] = 'p' ;
  return stralloc_catb(sa, field, 1 + pid_fmt(field + 1, pid)) && stralloc_0(sa) ;
}
