#ifndef POSTERN_FRAME_H
#define POSTERN_FRAME_H

#include <stddef.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

/* The pipe protocols between send and its children carry records:
   NUL-terminated fields ended by one empty field (so a record ends
   with two NULs). Each reader gives the most bytes a record may have. */

/* Reads from b (a non-blocking fd is fine) until sa holds a whole record,
   its final NUL included. Returns 1 when it does (the caller uses it
   and sets sa->len = 0), 0 when more input is needed (EAGAIN), -1 on
   error: errno EPIPE at end of file, EMSGSIZE past max bytes. */
extern int frame_get (buffer *b, stralloc *sa, size_t max) ;

/* Iterates over the fields of a record: *pos starts at 0; returns the
   next non-empty field (NUL-terminated) or 0 at the record's end. */
extern char const *frame_field (char const *s, size_t len, size_t *pos) ;

/* Reads from b (non-blocking) and calls f for every whole record there
   is now. Returns 1 while more may come, 0 at end of input (a partial
   record left is warned about); dies 111 on a record over max bytes or a
   read error. */
typedef void frame_func (char const *s, size_t len) ;
extern int frame_each (buffer *b, stralloc *rec, size_t max, frame_func *f) ;
#endif
