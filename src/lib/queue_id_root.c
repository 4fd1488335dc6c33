#include "queue.h"

/* the digits after a second '.', if any: 0 is the first root, whose ids
   have no suffix (the queue of one root reads as before) */
unsigned int queue_id_root (char const *id)
{
  unsigned int dots = 0, r = 0 ;
  for (; *id ; id++)
  {
    if (*id == '.') { dots++ ; r = 0 ; }
    else if (dots == 2) r = r * 10 + (unsigned int)(*id - '0') ;
  }
  return dots == 2 ? r : 0 ;
}
