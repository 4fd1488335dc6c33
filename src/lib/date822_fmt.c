#include <string.h>
#include <time.h>
#include <skalibs/types.h>
#include "date822.h"

static char const days[] = "ThuFriSatSunMonTueWed" ;  /* 1970-01-01 was a Thursday */
static char const months[] = "JanFebMarAprMayJunJulAugSepOctNovDec" ;

static size_t put2 (char *s, unsigned int x)
{
  s[0] = '0' + x / 10 % 10 ; s[1] = '0' + x % 10 ;
  return 2 ;
}

/* UTC, computed here (Hinnant's civil_from_days): gmtime_r would make
   glibc read /etc/localtime in every queue-inject */
size_t date822_fmt (char *s, time_t t)
{
  long long z = (long long)t / 86400, rem = (long long)t % 86400 ;
  long long era, doe, yoe, doy, mp, y ;
  unsigned int d, m ;
  size_t n = 0 ;
  if (rem < 0) { rem += 86400 ; z-- ; }
  memcpy(s, days + 3 * (((z % 7) + 7) % 7), 3) ; n = 3 ;
  z += 719468 ;
  era = (z >= 0 ? z : z - 146096) / 146097 ;
  doe = z - era * 146097 ;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365 ;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100) ;
  mp = (5 * doy + 2) / 153 ;
  d = (unsigned int)(doy - (153 * mp + 2) / 5 + 1) ;
  m = (unsigned int)(mp < 10 ? mp + 3 : mp - 9) ;
  y = yoe + era * 400 + (m <= 2) ;
  s[n++] = ',' ; s[n++] = ' ' ;
  n += uint_fmt(s + n, d) ; s[n++] = ' ' ;
  memcpy(s + n, months + 3 * (m - 1), 3) ; n += 3 ; s[n++] = ' ' ;
  n += uint_fmt(s + n, (unsigned int)y) ; s[n++] = ' ' ;
  n += put2(s + n, (unsigned int)(rem / 3600)) ; s[n++] = ':' ;
  n += put2(s + n, (unsigned int)(rem / 60 % 60)) ; s[n++] = ':' ;
  n += put2(s + n, (unsigned int)(rem % 60)) ;
  memcpy(s + n, " +0000", 6) ; n += 6 ;
  s[n] = 0 ;
  return n ;
}
