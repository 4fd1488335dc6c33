#include <string.h>
#include <time.h>
#include <skalibs/djbtime.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "log-summary.h"

/* Output helpers: no printf (no stdio in src/: test_style checks), so numbers and times are
   formatted here. Times are UTC: the message ids are, and a report
   read elsewhere means the same. */

size_t logsum_fmt_time (char *s, uint64_t sec)
{
  struct tm tm ;
  time_t t = (time_t)sec ;
  if (!gmtime_r(&t, &tm)) { memcpy(s, "0000-00-00 00:00:00", 19) ; return 19 ; }
  return localtm_fmt(s, &tm) ;
}

/* num / den, rounded to the nearest, with this many decimals */
size_t logsum_fmt_fixed (char *s, uint64_t num, uint64_t den, unsigned int decimals)
{
  unsigned __int128 scale = 1, q ;
  size_t n ;
  for (unsigned int i = 0 ; i < decimals ; i++) scale *= 10 ;
  q = den ? ((unsigned __int128)num * scale * 2 + den) / ((unsigned __int128)den * 2) : 0 ;
  n = uint64_fmt(s, (uint64_t)(q / scale)) ;
  if (!decimals) return n ;
  s[n++] = '.' ;
  q %= scale ;
  for (unsigned int i = decimals ; i-- ; q /= 10) s[n + i] = '0' + (char)(q % 10) ;
  return n + decimals ;
}

int logsum_put_pad (stralloc *sa, char const *s, size_t len, size_t width, int right)
{
  size_t pad = len < width ? width - len : 0 ;
  if (!stralloc_readyplus(sa, len + pad)) return 0 ;
  if (right) { memset(sa->s + sa->len, ' ', pad) ; sa->len += pad ; }
  memcpy(sa->s + sa->len, s, len) ;
  sa->len += len ;
  if (!right) { memset(sa->s + sa->len, ' ', pad) ; sa->len += pad ; }
  return 1 ;
}

int logsum_put_u64 (stralloc *sa, uint64_t u, size_t width)
{
  char fmt[UINT64_FMT] ;
  return logsum_put_pad(sa, fmt, uint64_fmt(fmt, u), width, 1) ;
}
