#include <string.h>
#include "state.h"

/* exactly n decimal digits at s */
static int scan_fixed (char const *s, size_t n, uint32_t *u)
{
  uint32_t x = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0 ;
    x = x * 10 + (uint32_t)(s[i] - '0') ;
  }
  *u = x ;
  return 1 ;
}

int state_next_rcpt (state_msg const *m, char const *s, size_t *pos, state_rcpt *r)
{
  size_t p = *pos, len = m->len ;
  char const *z ;
  uint32_t u ;
  if (p + STATE_FIXED + 3 > len || s[p] != 'R' || s[p + STATE_FIXED]) return 0 ;
  /* a NUL inside the fixed part would end the field early: the file
     would no longer be one framed record (state.h) */
  if (memchr(s + p, 0, STATE_FIXED)) return 0 ;
  if (!scan_fixed(s + p + 3, 4, &u)) return 0 ;
  r->attempts = u ;
  if (!scan_fixed(s + p + 7, 10, &r->lasttry)) return 0 ;
  r->offset = p ;
  r->status = s[p + 1] ;
  r->channel = s[p + 2] ;
  r->result = s + p + 17 ;
  p += STATE_FIXED + 1 ;
  z = memchr(s + p, 0, len - p) ;
  if (!z || z == s + p) return 0 ;
  r->addr = s + p ;
  p = (size_t)(z - s) + 1 ;
  if (p >= len || s[p] != 'L') return 0 ;
  z = memchr(s + p, 0, len - p) ;
  if (!z) return 0 ;
  r->localname = s + p + 1 ;
  *pos = (size_t)(z - s) + 1 ;
  return 1 ;
}
