#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "resolve.h"

/* a decimal id ending at a ':'; (id_t)-1 is "no id" to the kernel */
static size_t scan_id (char const *s, size_t len, uint32_t *id)
{
  size_t n ;
  if (!len || s[0] < '0' || s[0] > '9') return 0 ;
  n = uint32_scan(s, id) ;
  return n < len && s[n] == ':' && *id != (uint32_t)-1 ? n + 1 : 0 ;
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
