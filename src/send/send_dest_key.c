/* Which destination a remote address belongs to (send(8), "Dead
   destinations"), with a cache: a static route's lookup opens the cdb,
   up to once per label of the domain. */

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include "route.h"
#include "send.h"

/* domains cached, and how long an answer is kept: a changed route
   counts within that many seconds */
#define KEY_CACHE 1024
#define KEY_TTL 60

struct keyslot { char dom[DEST_KEY_MAX + 1] ; char key[DEST_KEY_MAX + 1] ; uint32_t at ; } ;
static struct keyslot keycache[KEY_CACHE] ;

static unsigned int slot (char const *s, size_t len)
{
  uint32_t h = 2166136261u ;
  for (size_t i = 0 ; i < len ; i++)
  {
    unsigned char c = s[i] ;
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A' ;
    h ^= c ; h *= 16777619u ;
  }
  return h % KEY_CACHE ;
}

/* The destination of addr: "route " and the static route's value when
   control/routes.cdb sends its domain somewhere (every domain routed
   there shares that host's health, as Postfix's queues are per
   nexthop), else its domain, lowercased. */
char const *send_dest_key (char const *addr, size_t *len, uint32_t now)
{
  char const *at = strrchr(addr, '@') ;
  char const *d = at ? at + 1 : "" ;
  size_t dlen = strlen(d) ;
  struct keyslot *k ;
  stralloc v = STRALLOC_ZERO ;
  if (dlen > DEST_KEY_MAX) dlen = DEST_KEY_MAX ;
  k = keycache + slot(d, dlen) ;
  if (k->at && now - k->at < KEY_TTL && !strncasecmp(k->dom, d, dlen) && !k->dom[dlen])
  {
    *len = strlen(k->key) ;
    return k->key ;
  }
  for (size_t i = 0 ; i < dlen ; i++) k->dom[i] = d[i] >= 'A' && d[i] <= 'Z' ? d[i] + 'a' - 'A' : d[i] ;
  k->dom[dlen] = 0 ;
  k->at = now ? now : 1 ;
  /* an unreadable table or an overlong route: the domain alone */
  if (route_static(k->dom, &v) > 0 && v.len && v.len + 6 <= DEST_KEY_MAX)
  {
    memcpy(k->key, "route ", 6) ;
    memcpy(k->key + 6, v.s, v.len) ;
    k->key[6 + v.len] = 0 ;
  }
  else memcpy(k->key, k->dom, dlen + 1) ;
  stralloc_free(&v) ;
  *len = strlen(k->key) ;
  return k->key ;
}
