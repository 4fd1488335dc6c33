#include "qwrite.h"

unsigned long qwrite_room (unsigned long databytes)
{
  if (!databytes) databytes = QWRITE_DATABYTES_DEFAULT ;
  return databytes > (unsigned long)-1 / QUEUE_ROOT_ROOM ? (unsigned long)-1 : databytes * QUEUE_ROOT_ROOM ;
}
