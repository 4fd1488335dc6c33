#include <string.h>
#include <skalibs/buffer.h>
#include "cyclog.h"

/* One record: the stamp, the unfinished part, n bytes of s, the marker
   if cut, a newline. It goes whole into the buffer, so whole into one
   file: rotation, if due, comes first. */
void cyclog_record (char const *s, size_t n, int cut)
{
  size_t len = sizeof cyclog_state.stamp + cyclog_state.partlen + n + (cut ? 3 : 0) + 1 ;
  if (cyclog_state.cursize && cyclog_state.cursize + len > cyclog_state.smax) cyclog_rotate() ;
  if (buffer_available(&cyclog_state.out) < len) cyclog_flush() ;
  buffer_putnoflush(&cyclog_state.out, cyclog_state.stamp, sizeof cyclog_state.stamp) ;
  buffer_putnoflush(&cyclog_state.out, cyclog_state.part, cyclog_state.partlen) ;
  buffer_putnoflush(&cyclog_state.out, s, n) ;
  if (cut) buffer_putnoflush(&cyclog_state.out, "...", 3) ;
  buffer_putnoflush(&cyclog_state.out, "\n", 1) ;
  cyclog_state.cursize += len ;
  cyclog_state.partlen = 0 ;
}

/* A line longer than linemax is cut at linemax, the rest of it up to
   its newline dropped; a line without newline yet waits in cyclog_state.part. */
void cyclog_lines (char const *s, size_t n)
{
  while (n)
  {
    char const *nl = memchr(s, '\n', n) ;
    size_t seg = nl ? (size_t)(nl - s) : n ;
    size_t room = cyclog_state.linemax - cyclog_state.partlen ;
    size_t eat = nl ? seg + 1 : n ;
    if (cyclog_state.skipping) cyclog_state.skipping = !nl ;
    else if (seg > room)
    {
      cyclog_record(s, room, 1) ;
      cyclog_state.cuts++ ;
      cyclog_state.skipping = !nl ;
    }
    else if (nl) cyclog_record(s, seg, 0) ;
    else
    {
      memcpy(cyclog_state.part + cyclog_state.partlen, s, seg) ;
      cyclog_state.partlen += seg ;
    }
    s += eat ;
    n -= eat ;
  }
}
