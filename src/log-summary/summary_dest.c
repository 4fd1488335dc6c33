#include <stdlib.h>
#include <string.h>
#include "log-summary.h"

/* Failing destinations in a fixed table (the space-saving algorithm):
   when it is full, a new domain takes the place of the one with the
   fewest failures and deferrals, and inherits that count as "over", an
   upper bound of what it may have missed. A domain failing more often
   than the table's least one is therefore never lost. */

/* chains of a hash of the domain: twice the table, so chains stay short */
#define DEST_HASH (2 * SUMMARY_DEST_MAX)

/* a foreign log may hold control bytes: the report shows them as '?' */
static void printable (char *s, size_t n)
{
  for (size_t i = 0 ; i < n ; i++)
    if ((unsigned char)s[i] < 32 || s[i] == 127) s[i] = '?' ;
}

static struct dest tab[SUMMARY_DEST_MAX] ;
static unsigned int ntab = 0 ;
static int heads[DEST_HASH] ;   /* index + 1 into tab; 0: empty */
static uint64_t evicted = 0 ;

static unsigned int hash (char const *s, size_t n)
{
  uint32_t h = 2166136261u ;
  for (size_t i = 0 ; i < n ; i++) h = (h ^ (unsigned char)s[i]) * 16777619u ;
  return h % DEST_HASH ;
}

static uint64_t total (struct dest const *d)
{
  return d->failures + d->deferrals + d->over ;
}

static void unlink_entry (unsigned int k)
{
  int *p = heads + hash(tab[k].domain, tab[k].dlen) ;
  while (*p != (int)k + 1) p = &tab[*p - 1].next ;
  *p = tab[k].next ;
}

static struct dest *find (char const *domain, size_t dlen)
{
  unsigned int h = hash(domain, dlen), k ;
  struct dest *d ;
  for (int i = heads[h] ; i ; i = tab[i - 1].next)
    if (tab[i - 1].dlen == dlen && !memcmp(tab[i - 1].domain, domain, dlen)) return tab + i - 1 ;
  if (ntab < SUMMARY_DEST_MAX) k = ntab++ ;
  else
  {
    k = 0 ;
    for (unsigned int i = 1 ; i < ntab ; i++) if (total(tab + i) < total(tab + k)) k = i ;
    unlink_entry(k) ;
    tab[k].over = total(tab + k) ;
    evicted++ ;
  }
  /* a fresh slot's over is still 0 (static) */
  d = tab + k ;
  d->failures = d->deferrals = 0 ;
  d->dlen = dlen ;
  memcpy(d->domain, domain, dlen) ;
  d->next = heads[h] ;
  heads[h] = k + 1 ;
  return d ;
}

void logsum_dest_add (char const *domain, size_t dlen, int failure, char const *text, size_t tlen)
{
  struct dest *d ;
  char clean[SUMMARY_DOMAIN_MAX] ;
  if (dlen > SUMMARY_DOMAIN_MAX) dlen = SUMMARY_DOMAIN_MAX ;
  memcpy(clean, domain, dlen) ;
  printable(clean, dlen) ;  /* before the hash: one key per shown name */
  d = find(clean, dlen) ;
  if (failure) d->failures++ ; else d->deferrals++ ;
  /* the text shown is the last failure's: a deferral's only until then */
  if (!failure && d->failures) return ;
  if (tlen > SUMMARY_TEXT_MAX)
  {
    memcpy(d->text, text, SUMMARY_TEXT_MAX - 3) ;
    memcpy(d->text + SUMMARY_TEXT_MAX - 3, "...", 3) ;
    tlen = SUMMARY_TEXT_MAX ;
  }
  else memcpy(d->text, text, tlen) ;
  printable(d->text, tlen) ;
  d->tlen = tlen ;
}

static int cmp (void const *a, void const *b)
{
  struct dest const *x = *(struct dest const *const *)a, *y = *(struct dest const *const *)b ;
  size_t n = x->dlen < y->dlen ? x->dlen : y->dlen ;
  int c ;
  if (total(x) != total(y)) return total(x) > total(y) ? -1 : 1 ;
  if (x->failures != y->failures) return x->failures > y->failures ? -1 : 1 ;
  c = memcmp(x->domain, y->domain, n) ;
  return c ? c : (int)x->dlen - (int)y->dlen ;
}

unsigned int logsum_dest_top (struct dest const **top, unsigned int n)
{
  static struct dest const *all[SUMMARY_DEST_MAX] ;
  for (unsigned int i = 0 ; i < ntab ; i++) all[i] = tab + i ;
  qsort(all, ntab, sizeof *all, &cmp) ;
  if (n > ntab) n = ntab ;
  memcpy(top, all, n * sizeof *top) ;
  return n ;
}

unsigned int logsum_dest_count (void)
{
  return ntab ;
}

uint64_t logsum_dest_evicted (void)
{
  return evicted ;
}
