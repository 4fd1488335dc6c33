/* An open-addressing table of domains: a queue of a million recipients
   at a few thousand domains costs one hash and a probe or two each. */

#include <string.h>
#include <skalibs/genalloc.h>
#include <skalibs/strerr.h>
#include "qstats.h"

static stralloc pool = STRALLOC_ZERO ;
static genalloc doms = GENALLOC_ZERO ;    /* struct qstats_dom */
static genalloc slots = GENALLOC_ZERO ;   /* uint32_t: index + 1, 0 empty */
static size_t nslots = 0 ;                /* a power of 2, kept at most half full */
static uint32_t other = 0 ;               /* index + 1 of "(other)" */

static uint32_t hash (char const *s, size_t len)
{
  uint32_t h = 2166136261u ;
  for (size_t i = 0 ; i < len ; i++) { h ^= (unsigned char)s[i] ; h *= 16777619u ; }
  return h ;
}

static void die (void)
{
  strerr_diefu1sys(111, "allocate") ;
}

static uint32_t *probe (char const *s, size_t len)
{
  uint32_t *sl = genalloc_s(uint32_t, &slots) ;
  struct qstats_dom const *d = genalloc_s(struct qstats_dom, &doms) ;
  size_t i = hash(s, len) & (nslots - 1) ;
  while (sl[i])
  {
    char const *name = pool.s + d[sl[i] - 1].name ;
    if (!strncmp(name, s, len) && !name[len]) break ;
    i = (i + 1) & (nslots - 1) ;
  }
  return sl + i ;
}

static void grow (void)
{
  size_t n = genalloc_len(struct qstats_dom, &doms) ;
  struct qstats_dom const *d ;
  nslots = nslots ? nslots * 2 : 1024 ;
  if (!genalloc_ready(uint32_t, &slots, nslots)) die() ;
  memset(slots.s, 0, nslots * sizeof(uint32_t)) ;
  d = genalloc_s(struct qstats_dom, &doms) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char const *name = pool.s + d[i].name ;
    *probe(name, strlen(name)) = (uint32_t)i + 1 ;
  }
}

static uint32_t make (char const *s, size_t len)
{
  struct qstats_dom d = { .name = pool.len, .total = 0 } ;
  memset(d.ages, 0, sizeof d.ages) ;
  if (!stralloc_catb(&pool, s, len) || !stralloc_0(&pool)) die() ;
  if (!genalloc_append(struct qstats_dom, &doms, &d)) die() ;
  return (uint32_t)genalloc_len(struct qstats_dom, &doms) ;
}

static uint32_t find (char const *s, size_t len)
{
  uint32_t *slot ;
  if (2 * (genalloc_len(struct qstats_dom, &doms) + 1) > nslots) grow() ;
  slot = probe(s, len) ;
  if (*slot) return *slot ;
  if (genalloc_len(struct qstats_dom, &doms) >= QSTATS_DOMAINS_MAX)
  {
    if (!other) other = make("(other)", 7) ;
    return other ;
  }
  return *slot = make(s, len) ;
}

/* the domain: what follows the last '@', lowercased */
void qstats_dom_add (char const *addr, unsigned int age)
{
  char low[256] ;
  char const *at = strrchr(addr, '@') ;
  size_t len ;
  struct qstats_dom *d ;
  uint32_t k ;
  if (!at || !at[1]) k = find("(none)", 6) ;
  else
  {
    len = strlen(at + 1) ;
    /* an address is at most ADDR_MAX bytes, so is its domain */
    if (len > sizeof low) len = sizeof low ;
    for (size_t i = 0 ; i < len ; i++) low[i] = at[1 + i] >= 'A' && at[1 + i] <= 'Z' ? at[1 + i] + 32 : at[1 + i] ;
    k = find(low, len) ;
  }
  d = genalloc_s(struct qstats_dom, &doms) + k - 1 ;
  d->total++ ;
  d->ages[age]++ ;
}

struct qstats_dom *qstats_dom_all (size_t *n, char const **p)
{
  *n = genalloc_len(struct qstats_dom, &doms) ;
  *p = pool.s ;
  return genalloc_s(struct qstats_dom, &doms) ;
}
