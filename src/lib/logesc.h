#ifndef POSTERN_LOGESC_H
#define POSTERN_LOGESC_H

#include <stddef.h>

/* A log line's outside byte (address, agent text, client input): kept if
   printable ASCII other than '\\', else '\\' and three octal digits, so
   no byte can forge a line for the log's readers. Writes 1 or 4 bytes
   into e and returns how many. */
extern size_t logesc_byte (char *e, unsigned char c) ;

#endif
