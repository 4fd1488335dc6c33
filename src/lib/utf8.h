#ifndef POSTERN_UTF8_H
#define POSTERN_UTF8_H

#include <stddef.h>

/* RFC 3629 4: 1 if s (len bytes) is well-formed UTF-8: no overlong
   form, no surrogate (U+D800..U+DFFF), nothing past U+10FFFF, no stray
   or missing continuation byte; and no C1 control (U+0080..U+009F), as
   no address holds a control character (addr.h). ASCII passes. */
extern int utf8_valid (char const *s, size_t len) ;

/* 1 if s (len bytes) has a byte outside ASCII */
extern int utf8_any (char const *s, size_t len) ;

#endif
