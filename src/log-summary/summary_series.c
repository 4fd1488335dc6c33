#include "log-summary.h"

/* Counts per interval of -w seconds, aligned on multiples of it since
   1970 UTC (so minutes start at :00). At most SUMMARY_SERIES_MAX
   intervals: when the log spans more, the width doubles and pairs of
   intervals merge, as many times as needed. */

static struct interval iv[SUMMARY_SERIES_MAX] ;
static size_t n = 0 ;
static uint64_t width, asked, base ;   /* seconds */

static void zero (struct interval *x)
{
  x->delivered = x->deferred = x->failed = 0 ;
  x->queue = -1 ;
}

/* interval i goes to (base - base2 + i * width) / (2 * width), never
   after i: merging in place, in order, reads each slot before it is
   written */
static void widen (void)
{
  uint64_t w2 = 2 * width, base2 = base / w2 * w2 ;
  size_t m = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    struct interval x = iv[i] ;
    size_t j = (base - base2 + i * width) / w2 ;
    zero(iv + i) ;
    iv[j].delivered += x.delivered ;
    iv[j].deferred += x.deferred ;
    iv[j].failed += x.failed ;
    if (x.queue > iv[j].queue) iv[j].queue = x.queue ;
    m = j + 1 ;
  }
  n = m ;
  width = w2 ;
  base = base2 ;
}

void logsum_series_init (uint64_t w)
{
  width = asked = w ;
}

struct interval *logsum_series_at (uint64_t t)
{
  uint64_t sec = t / NS ;
  size_t i ;
  if (!n)
  {
    base = sec / width * width ;
    zero(iv) ;
    n = 1 ;
  }
  /* a clock set back: counted in the first interval */
  if (sec < base) sec = base ;
  while ((sec - base) / width >= SUMMARY_SERIES_MAX) widen() ;
  i = (sec - base) / width ;
  while (n <= i) zero(iv + n++) ;
  return iv + i ;
}

struct interval const *logsum_series_get (size_t *len, uint64_t *start, uint64_t *w)
{
  *len = n ;
  *start = base ;
  *w = width ;
  return iv ;
}

uint64_t logsum_series_asked (void)
{
  return asked ;
}
