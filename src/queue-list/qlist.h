#ifndef QLIST_H
#define QLIST_H

#include <stdint.h>
#include <skalibs/stralloc.h>
#include "qread.h"

/* appends m's lines (postern's queue-list(8) format) to out; 0 on
   allocation failure */
extern int qlist_put (stralloc *out, qread_msg const *m, uint32_t now, unsigned long slowafter) ;

#endif
