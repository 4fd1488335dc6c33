/* The transaction's recipients, each once: a duplicate RCPT is
   answered 250 but not queued again. A hash table of their keys
   (addr_key), seeded per process so that no client can choose
   colliding addresses; each lookup costs one key, whatever the count. */

#include <stdint.h>
#include <string.h>
#include <skalibs/random.h>
#include <skalibs/stralloc.h>
#include "addr.h"
#include "envelope.h"
#include "smtpd.h"

/* a power of two over twice ENV_RCPT_MAX (maxrcpt's ceiling): the table
   stays under half full, so probes stay short */
#define SLOTS 32768

static uint32_t slot[SLOTS] ;         /* 0: free; else 1 + offset in keys */
static uint32_t used[ENV_RCPT_MAX] ;  /* the slots taken, to free them */
static unsigned int nused = 0 ;
static stralloc keys = STRALLOC_ZERO ;  /* the keys, each NUL-ended */
static uint32_t seed ;
static int seeded = 0 ;

void smtpd_rcpts_reset (void)
{
  for (unsigned int i = 0 ; i < nused ; i++) slot[used[i]] = 0 ;
  nused = 0 ;
  keys.len = 0 ;
}

/* FNV-1a, from a random basis */
static uint32_t hash (char const *k, size_t len)
{
  uint32_t h ;
  if (!seeded) { random_buf((char *)&seed, sizeof seed) ; seeded = 1 ; }
  h = 2166136261u ^ seed ;
  for (size_t i = 0 ; i < len ; i++) { h ^= (unsigned char)k[i] ; h *= 16777619u ; }
  return h ;
}

/* the slot of key k: where it is, or the free one where it would go */
static uint32_t find (char const *k, size_t len)
{
  uint32_t i = hash(k, len) & (SLOTS - 1) ;
  while (slot[i])
  {
    char const *x = keys.s + slot[i] - 1 ;
    if (!strncmp(x, k, len) && !x[len]) break ;
    i = (i + 1) & (SLOTS - 1) ;
  }
  return i ;
}

int smtpd_rcpts_seen (char const *addr, size_t len, int local)
{
  char k[ADDR_MAX] ;
  if (len > ADDR_MAX) return 0 ;
  addr_key(k, addr, len, local) ;
  return !!slot[find(k, len)] ;
}

int smtpd_rcpts_add (char const *addr, size_t len, int local)
{
  char k[ADDR_MAX] ;
  uint32_t i ;
  if (len > ADDR_MAX || nused >= ENV_RCPT_MAX) return 1 ;
  addr_key(k, addr, len, local) ;
  i = find(k, len) ;
  if (slot[i]) return 1 ;
  if (!stralloc_catb(&keys, k, len) || !stralloc_0(&keys)) return 0 ;
  slot[i] = (uint32_t)(keys.len - len) ;
  used[nused++] = i ;
  return 1 ;
}
