#include <unistd.h>
#include "qread.h"
#include "queue.h"

int qread_held (char const *id)
{
  char path[QUEUE_PATH_MAX] ;
  queue_path(path, QUEUE_HOLD, id) ;
  return access(path, F_OK) == 0 ;
}
