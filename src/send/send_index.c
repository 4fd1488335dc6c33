#include <stdint.h>
#include <string.h>
#include <skalibs/alloc.h>
#include "send.h"

/* Open addressing with linear probing and backward-shift deletion: one
   array of pointers, doubled at half load, so lookups stay O(1) from ten
   to a million queued messages. */

static struct msg **slots = 0 ;
static unsigned long cap = 0, count = 0 ;

static unsigned long hash (char const *id)
{
  uint32_t h = 2166136261u ;
  while (*id) { h ^= (unsigned char)*id++ ; h *= 16777619u ; }
  return h ;
}

unsigned long send_index_count (void)
{
  return count ;
}

struct msg *send_index_get (char const *id)
{
  if (!cap) return 0 ;
  for (unsigned long i = hash(id) & (cap - 1) ; slots[i] ; i = (i + 1) & (cap - 1))
    if (!strcmp(slots[i]->id, id)) return slots[i] ;
  return 0 ;
}

static void insert (struct msg *m)
{
  unsigned long i = hash(m->id) & (cap - 1) ;
  while (slots[i]) i = (i + 1) & (cap - 1) ;
  slots[i] = m ;
}

int send_index_put (struct msg *m)
{
  if (2 * (count + 1) > cap)
  {
    unsigned long oldcap = cap ;
    struct msg **old = slots ;
    unsigned long newcap = cap ? cap * 2 : 1024 ;
    struct msg **s = alloc(newcap * sizeof *s) ;
    if (!s) return 0 ;
    memset(s, 0, newcap * sizeof *s) ;
    slots = s ; cap = newcap ;
    for (unsigned long i = 0 ; i < oldcap ; i++) if (old[i]) insert(old[i]) ;
    alloc_free(old) ;
  }
  insert(m) ;
  count++ ;
  return 1 ;
}

void send_index_del (struct msg *m)
{
  unsigned long i = hash(m->id) & (cap - 1) ;
  while (slots[i] != m)
  {
    if (!slots[i]) return ;
    i = (i + 1) & (cap - 1) ;
  }
  slots[i] = 0 ;
  count-- ;
  /* shift back every later entry of the run that now has a hole before it */
  for (unsigned long j = (i + 1) & (cap - 1) ; slots[j] ; j = (j + 1) & (cap - 1))
  {
    unsigned long home = hash(slots[j]->id) & (cap - 1) ;
    /* j's entry may move to i if its home is not in (i, j] cyclically */
    if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j))
    {
      slots[i] = slots[j] ;
      slots[j] = 0 ;
      i = j ;
    }
  }
}
