#ifndef POSTERN_TRACE_H
#define POSTERN_TRACE_H

#include <stddef.h>

/* Trace fields that count as hops (qmail's MAXHOPS count, smtpd(8) and
   local(8) control/maxhops): what a header line of n bytes starts with,
   case-insensitively. */
enum trace_kind { TRACE_NONE = 0, TRACE_RECEIVED, TRACE_DELIVERED_TO } ;
extern enum trace_kind trace_field (char const *s, size_t n) ;

#endif
