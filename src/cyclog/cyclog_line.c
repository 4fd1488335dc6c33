#include <string.h>
#include <skalibs/buffer.h>
#include "cyclog.h"

/* One record: the stamp, the unfinished part, n bytes of s, the marker
   if cut, a newline. It goes whole into the buffer, so whole into one
   file: rotation, if due, comes first. */
void cyclog_record (char const *s, size_t n, int cut)
{
  size_t len = sizeof cy.stamp + cy.partlen + n + (cut ? 3 : 0) + 1 ;
  if (cy.cursize && cy.cursize + len > cy.smax) cyclog_rotate() ;
  if (buffer_available(&cy.out) < len) cyclog_flush() ;
  buffer_putnoflush(&cy.out, cy.stamp, sizeof cy.stamp) ;
  buffer_putnoflush(&cy.out, cy.part, cy.partlen) ;
  buffer_putnoflush(&cy.out, s, n) ;
  if (cut) buffer_putnoflush(&cy.out, "...", 3) ;
  buffer_putnoflush(&cy.out, "\n", 1) ;
  cy.cursize += len ;
  cy.partlen = 0 ;
}

/* A line longer than linemax is cut at linemax, the rest of it up to
   its newline dropped; a line without newline yet waits in cy.part. */
void cyclog_lines (char const *s, size_t n)
{
  while (n)
  {
    char const *nl = memchr(s, '\n', n) ;
    size_t seg = nl ? (size_t)(nl - s) : n ;
    size_t room = cy.linemax - cy.partlen ;
    size_t eat = nl ? seg + 1 : n ;
    if (cy.skipping) cy.skipping = !nl ;
    else if (seg > room)
    {
      cyclog_record(s, room, 1) ;
      cy.cuts++ ;
      cy.skipping = !nl ;
    }
    else if (nl) cyclog_record(s, seg, 0) ;
    else
    {
      memcpy(cy.part + cy.partlen, s, seg) ;
      cy.partlen += seg ;
    }
    s += eat ;
    n -= eat ;
  }
}
