#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "addr.h"
#include "resolve.h"
#include "route.h"

/* seen: keys, each NUL-ended: 'L' and a local name, or 'R' and a
   remote address with its domain lowercased */
static int seen_add (stralloc *seen, char kind, char const *s, size_t len, int lowerdomain)
{
  size_t at = len ;
  char key[ADDR_MAX + 2] ;
  key[0] = kind ;
  memcpy(key + 1, s, len) ;
  key[len + 1] = 0 ;
  if (lowerdomain)
  {
    while (at && s[at - 1] != '@') at-- ;
    for (size_t i = at ; i < len ; i++)
      if (key[i + 1] >= 'A' && key[i + 1] <= 'Z') key[i + 1] += 32 ;
  }
  for (size_t i = 0 ; i < seen->len ; i += strlen(seen->s + i) + 1)
    if (!strcmp(seen->s + i, key)) return 0 ;
  return stralloc_catb(seen, key, len + 2) ? 1 : -1 ;
}

/* the ','-joined addresses of s, each as a depth byte, itself, NUL */
static int push (stralloc *q, char const *s, unsigned char depth)
{
  while (*s)
  {
    size_t n = strcspn(s, ",") ;
    if (n && (!stralloc_catb(q, (char const *)&depth, 1) || !stralloc_catb(q, s, n) || !stralloc_0(q)))
      return 0 ;
    s += n + !!s[n] ;
  }
  return 1 ;
}

int resolve_expand (resolve_dest *d, char const *self, size_t len)
{
  static resolve_dest sub = RESOLVE_DEST_ZERO ;
  route rt = ROUTE_ZERO ;
  stralloc q = STRALLOC_ZERO, seen = STRALLOC_ZERO, out = STRALLOC_ZERO ;
  char local[ROUTE_LOCALNAME_MAX] ;
  unsigned int lookups = 0, n = 0 ;
  int r = -1 ;
  if (len > ROUTE_LOCALNAME_MAX) return (errno = EINVAL, -1) ;
  memcpy(local, self, len) ;
  for (size_t i = 0 ; i < len ; i++) if (local[i] >= 'A' && local[i] <= 'Z') local[i] += 32 ;
  if (seen_add(&seen, 'L', local, len, 0) < 0 || !push(&q, resolve_str(d, addrs), 1)) goto end ;
  for (size_t i = 0 ; i < q.len ; )
  {
    unsigned char depth = (unsigned char)q.s[i] ;
    char const *addr = q.s + i + 1 ;
    size_t alen = strlen(addr), ln ;
    enum route_kind k = route_classify(&rt, local, &ln, addr, alen) ;
    int x ;
    i += alen + 2 ;
    if (k == ROUTE_NONE && rt.table) goto end ;
    if (k == ROUTE_LOCAL || k == ROUTE_VIRTUAL)
    {
      x = seen_add(&seen, 'L', local, ln, 0) ;
      if (x <= 0) { if (x < 0) goto end ; continue ; }
      x = resolve_alias(&sub, local, ln) ;
      if (x < 0) goto end ;
      if (x)
      {
        if (depth >= RESOLVE_EXPAND_DEPTH) { r = RESOLVE_EXPAND_TOODEEP ; goto end ; }
        if (++lookups > RESOLVE_EXPAND_LOOKUPS) { r = RESOLVE_EXPAND_TOOMANY ; goto end ; }
        if (!push(&q, resolve_str(&sub, addrs), depth + 1)) goto end ;
        continue ;
      }
    }
    else
    {
      /* remote, or a local name too long for any user: kept as written */
      x = seen_add(&seen, 'R', addr, alen, 1) ;
      if (x <= 0) { if (x < 0) goto end ; continue ; }
    }
    if (++n > RESOLVE_EXPAND_MAX) { r = RESOLVE_EXPAND_TOOMANY ; goto end ; }
    if ((n > 1 && !stralloc_catb(&out, ",", 1)) || !stralloc_catb(&out, addr, alen)) goto end ;
  }
  d->sa.len = 0 ;
  d->addrs = 0 ;
  if ((out.len && !stralloc_catb(&d->sa, out.s, out.len)) || !stralloc_0(&d->sa)) goto end ;
  r = (int)n ;
 end:
  stralloc_free(&q) ;
  stralloc_free(&seen) ;
  stralloc_free(&out) ;
  stralloc_free(&rt.prefix) ;
  return r ;
}
