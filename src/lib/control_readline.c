#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "control.h"

int control_readline (stralloc *sa, char const *name)
{
  char path[sizeof(CONTROL_DIR) + 256] ;
  size_t namelen = strlen(name) ;
  if (namelen > 255) return (errno = ENAMETOOLONG, -1) ;
  memcpy(path, CONTROL_DIR "/", sizeof(CONTROL_DIR)) ;
  memcpy(path + sizeof(CONTROL_DIR), name, namelen + 1) ;
  return control_readfile(sa, path) ;
}
