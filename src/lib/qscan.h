#ifndef POSTERN_QSCAN_H
#define POSTERN_QSCAN_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Scanning and reading the queue trees (see postern-queue(5)). */

/* Appends to sa the names in tree/sub (e.g. QUEUE_TODO, 5) that are
   queue_id_valid(), each NUL-terminated, at most max of them; anything
   else in a queue directory is not ours and is skipped. The names are
   all read before the caller acts on them, so removing entries cannot
   disturb readdir. Returns how many, or -1 with errno. */
extern int qscan_names (stralloc *sa, char const *tree, unsigned int sub, unsigned int max) ;

/* Reads fd from its offset to end of file into sa (replacing its
   contents), refusing more than max bytes. Returns 1, or 0 with errno
   (EFBIG: over max). */
extern int qscan_read (int fd, stralloc *sa, size_t max) ;

#endif
