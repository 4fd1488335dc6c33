#include <string.h>
#include <skalibs/types.h>
#include "queue.h"

/* hold markers stay in the home's queue/, whatever root holds the
   message: queue-ctl and send find them without knowing the roots */
size_t queue_hold_path (char *s, char const *id)
{
  size_t n = sizeof QUEUE_HOLD - 1 ;
  size_t idlen = strlen(id) ;
  memcpy(s, QUEUE_HOLD, n) ;
  s[n++] = '/' ;
  n += uint_fmt(s + n, queue_hash(id)) ;
  s[n++] = '/' ;
  memcpy(s + n, id, idlen + 1) ;
  return n + idlen ;
}
