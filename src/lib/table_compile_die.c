#include <errno.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include "table.h"

void table_compile_die (char const *tmp, char const *verb, char const *obj)
{
  int e = errno ;
  if (tmp) unlink(tmp) ;
  errno = e ;
  strerr_diefu2sys(111, verb, obj) ;
}
