#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <sys/types.h>

/* RFC 4648 base64 (skalibs 2.13 has none). base64_decode writes at
   most len / 4 * 3 bytes into d; returns their number, or -1 if s is
   not base64 (a bad character, a bad length, data after padding) */
extern ssize_t base64_decode (char *d, char const *s, size_t len) ;

#endif
