/* log-summary: reads log directories written by cyclog (send's,
   smtpd's), merges their lines by TAI64N stamp, and prints what
   happened: counts, deliveries per interval, delays, failing
   destinations; with --svg, a picture of deliveries and queue size.
   Run by an operator; reads only the directories, writes fd 1 and the
   SVG file. log-summary(8). */

#include <string.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "log-summary.h"

struct summary logsum_totals ;
static struct source sources[SUMMARY_DIRS_MAX] ;

static unsigned int parse (int argc, char const *const *argv, char const **svg, char const **dirs)
{
  uint64_t w = SUMMARY_WIDTH_DEFAULT ;
  unsigned int n = 0 ;
  int i = 1 ;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] ; i++)
  {
    char const *a = argv[i] ;
    if (!strcmp(a, "--")) { i++ ; break ; }
    if (!strcmp(a, "--svg"))
    {
      if (++i >= argc || !argv[i][0]) strerr_dieusage(100, SUMMARY_USAGE) ;
      *svg = argv[i] ;
    }
    else if (a[1] == 'w' && !a[2])
    {
      if (++i >= argc) strerr_dieusage(100, SUMMARY_USAGE) ;
      if (!uint640_scan(argv[i], &w) || !w || w > SUMMARY_WIDTH_MAX)
        strerr_dief1x(100, "-w: a number of seconds, from 1 to 604800") ;
    }
    else strerr_dieusage(100, SUMMARY_USAGE) ;
  }
  for (; i < argc ; i++)
  {
    if (n >= SUMMARY_DIRS_MAX) strerr_dief1x(100, "too many directories: at most 32") ;
    dirs[n++] = argv[i] ;
  }
  if (!n) strerr_dieusage(100, SUMMARY_USAGE) ;
  logsum_series_init(w) ;
  logsum_totals.busy = -1 ;
  return n ;
}

int main (int argc, char const *const *argv)
{
  char const *svg = 0 ;
  char const *dirs[SUMMARY_DIRS_MAX] ;
  unsigned int n ;
  PROG = "log-summary" ;
  n = parse(argc, argv, &svg, dirs) ;
  for (unsigned int i = 0 ; i < n ; i++) logsum_source_open(sources + i, dirs[i]) ;
  /* merge: the oldest head line next; on a tie, the first directory */
  for (;;)
  {
    struct source *src = 0 ;
    for (unsigned int i = 0 ; i < n ; i++)
      if (sources[i].have && (!src || sources[i].t < src->t)) src = sources + i ;
    if (!src) break ;
    logsum_summary_line(src->t, src->line + TIMESTAMP + 1) ;
    logsum_source_next(src) ;
  }
  logsum_report_text() ;
  if (svg) logsum_report_svg(svg) ;
  return 0 ;
}
