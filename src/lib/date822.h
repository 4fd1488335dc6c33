#ifndef POSTERN_DATE822_H
#define POSTERN_DATE822_H

#include <stddef.h>
#include <time.h>

/* "Mon, 23 Nov 2026 15:33:53 +0000" plus NUL */
#define DATE822_FMT 32
/* writes the RFC 5322 date of t (UTC) into s; returns its length */
extern size_t date822_fmt (char *s, time_t t) ;

#endif
