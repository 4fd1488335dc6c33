#include "log-summary.h"

/* Delays in a fixed histogram, not a list: memory does not grow with
   the log. Below 128 ms a bucket is one ms; above, each doubling
   [2^e, 2^(e+1)) is cut in 64 equal buckets, so a bucket is at most 1/64
   of its values wide. A percentile is its bucket's low end: exact below
   128 ms, otherwise at most 1.6% under the true delay. */

static uint64_t counts[HIST_BUCKETS] ;
static uint64_t n = 0, max = 0 ;

#define EXACT (1u << HIST_EXACT_BITS)
#define SUB (1u << HIST_SUB_BITS)

static unsigned int bucket (uint64_t v)
{
  unsigned int e ;
  if (v < EXACT) return v ;
  e = 63 - __builtin_clzll(v) ;
  return EXACT + (e - HIST_EXACT_BITS) * SUB + ((v >> (e - HIST_SUB_BITS)) & (SUB - 1)) ;
}

static uint64_t low (unsigned int b)
{
  unsigned int e ;
  if (b < EXACT) return b ;
  b -= EXACT ;
  e = b / SUB + HIST_EXACT_BITS ;
  return ((uint64_t)SUB + b % SUB) << (e - HIST_SUB_BITS) ;
}

void logsum_hist_add (uint64_t ms)
{
  if (ms > SUMMARY_DELAY_CAP) ms = SUMMARY_DELAY_CAP ;
  counts[bucket(ms)]++ ;
  if (ms > max) max = ms ;
  n++ ;
}

uint64_t logsum_hist_count (void)
{
  return n ;
}

uint64_t logsum_hist_max (void)
{
  return max ;
}

/* nearest rank: the smallest delay that p% of the deliveries do not exceed */
uint64_t logsum_hist_percentile (unsigned int p)
{
  uint64_t rank = (p * n + 99) / 100, cum = 0 ;
  if (!rank) rank = 1 ;
  for (unsigned int b = 0 ; b < HIST_BUCKETS ; b++)
  {
    cum += counts[b] ;
    if (cum >= rank) return low(b) ;
  }
  return max ;
}
