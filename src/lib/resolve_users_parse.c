#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "resolve.h"

/* a decimal id ending at a ':' within len bytes (the value is not
   NUL-terminated: the scan stops at len); (id_t)-1 is "no id" to the
   kernel */
static size_t scan_id (char const *s, size_t len, uint32_t *id)
{
  uint32_t x = 0 ;
  size_t n = 0 ;
  for (; n < len && s[n] >= '0' && s[n] <= '9' ; n++)
  {
    uint32_t d = (uint32_t)(s[n] - '0') ;
    if (x > (UINT32_MAX - d) / 10) return 0 ;
    x = x * 10 + d ;
  }
  if (!n || n >= len || s[n] != ':' || x == (uint32_t)-1) return 0 ;
  *id = x ;
  return n + 1 ;
}

/* "account:uid:gid:home", home absolute; the rest is EINVAL */
int resolve_users_parse (resolve_dest *d, char const *s, size_t len)
{
  char const *colon = memchr(s, ':', len) ;
  size_t i, n ;
  uint32_t uid, gid ;
  if (!colon || colon == s || memchr(s, 0, len)) return (errno = EINVAL, -1) ;
  i = (size_t)(colon - s) + 1 ;
  n = scan_id(s + i, len - i, &uid) ;
  if (!n) return (errno = EINVAL, -1) ;
  i += n ;
  n = scan_id(s + i, len - i, &gid) ;
  if (!n) return (errno = EINVAL, -1) ;
  i += n ;
  if (i >= len || s[i] != '/') return (errno = EINVAL, -1) ;
  d->sa.len = 0 ;
  d->account = 0 ;
  if (!stralloc_catb(&d->sa, s, (size_t)(colon - s)) || !stralloc_0(&d->sa)) return -1 ;
  d->home = d->sa.len ;
  if (!stralloc_catb(&d->sa, s + i, len - i) || !stralloc_0(&d->sa)) return -1 ;
  d->uid = uid ;
  d->gid = gid ;
  d->kind = RESOLVE_USER ;
  return 1 ;
}
