#include "fsx.h"

extern int rename (char const *, char const *) ;

int fsx_rename (char const *from, char const *to)
{
  return rename(from, to) ;
}
