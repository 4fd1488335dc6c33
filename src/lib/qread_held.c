#include <unistd.h>
#include "qread.h"
#include "queue.h"

int qread_held (char const *id)
{
  char path[QUEUE_PATH_MAX] ;
  queue_hold_path(path, id) ;
  return access(path, F_OK) == 0 ;
}
