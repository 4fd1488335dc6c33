#ifndef POSTERN_CLEAN_H
#define POSTERN_CLEAN_H

#include "queue.h"

/* queue-inject's lifetime (seconds): an intake file, or a body with
   neither todo nor state entry, older than this belongs to a dead run */
#define CLEAN_LEFTOVER_AGE 86400
/* a request: "B" id, NUL, the final NUL */
#define CLEAN_REQUEST_MAX (1 + QUEUE_ID_MAX + 2)

extern void clean_leftovers (void) ;

#endif
