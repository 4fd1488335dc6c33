#include <strings.h>
#include "trace.h"

enum trace_kind trace_field (char const *s, size_t n)
{
  if (n >= 9 && !strncasecmp(s, "received:", 9)) return TRACE_RECEIVED ;
  if (n >= 13 && !strncasecmp(s, "delivered-to:", 13)) return TRACE_DELIVERED_TO ;
  return TRACE_NONE ;
}
