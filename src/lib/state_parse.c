#include <string.h>
#include <skalibs/types.h>
#include "state.h"

/* field at s+pos of at most len-pos bytes: its length, or -1 if no NUL */
static long field (char const *s, size_t len, size_t pos)
{
  char const *z = memchr(s + pos, 0, len - pos) ;
  return z ? (long)(z - (s + pos)) : -1 ;
}

int state_parse (state_msg *m, char const *s, size_t len)
{
  size_t pos = 0 ;
  long n ;
  unsigned int count = 0 ;
  state_rcpt r ;
  if (len < sizeof STATE_VERSION || memcmp(s, STATE_VERSION, sizeof STATE_VERSION)) return 0 ;
  pos = sizeof STATE_VERSION ;
  n = field(s, len, pos) ;
  if (n < 2 || s[pos] != 'u' || ulong_scan(s + pos + 1, &m->uid) != (size_t)n - 1) return 0 ;
  pos += n + 1 ;
  n = field(s, len, pos) ;
  if (n < 2 || s[pos] != 'z' || ulong_scan(s + pos + 1, &m->size) != (size_t)n - 1) return 0 ;
  pos += n + 1 ;
  n = field(s, len, pos) ;
  if (n < 1 || s[pos] != 'F') return 0 ;
  m->sender = s + pos + 1 ;
  pos += n + 1 ;
  m->rcpts_at = pos ;
  m->len = len ;
  m->nrcpts = 0 ;
  while (state_next_rcpt(m, s, &pos, &r)) count++ ;
  /* a whole file ends with exactly one empty field after the last recipient */
  if (!count || pos + 1 != len || s[pos]) return 0 ;
  m->nrcpts = count ;
  return 1 ;
}
