/* dkim_verify_test [-n now] record < message: every DKIM-Signature of the
   message checked by dkim_verify, the key of every name being the DNS
   record given ("-": no record, "TEMP": a lookup that fails); prints a
   line a signature, "RESULT[ (why)] d=D s=S a=A b=B", or "none".
   Exits 0, 100 on usage, 111 on error. */

#include <stdint.h>
#include <string.h>
#include <time.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "dkim.h"

#define USAGE "dkim_verify_test [-n now] record < message"

static int lookup (stralloc *sa, char const *name, void *arg)
{
  char const *record = arg ;
  (void)name ;
  if (!strcmp(record, "-")) return 0 ;
  if (!strcmp(record, "TEMP")) return -1 ;
  return stralloc_cats(sa, record) && stralloc_0(sa) ? 1 : -1 ;
}

int main (int argc, char const *const *argv)
{
  stralloc m = STRALLOC_ZERO ;
  dkim_sig sig[DKIM_VERIFY_MAX] ;
  uint64_t now = time(0) ;
  unsigned int n ;
  subgetopt l = SUBGETOPT_ZERO ;
  PROG = "dkim_verify_test" ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "n:", &l) ;
    if (opt == -1) break ;
    if (opt != 'n' || !uint640_scan(l.arg, &now)) strerr_dieusage(100, USAGE) ;
  }
  argc -= l.ind ; argv += l.ind ;
  if (argc != 1) strerr_dieusage(100, USAGE) ;
  if (!slurp(&m, 0)) strerr_diefu1sys(111, "read stdin") ;
  n = dkim_verify(sig, DKIM_VERIFY_MAX, m.s, m.len, now, &lookup, (void *)argv[0]) ;
  if (!n) buffer_puts(buffer_1, "none\n") ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    buffer_puts(buffer_1, dkim_result_name(sig[i].result)) ;
    if (sig[i].why) { buffer_puts(buffer_1, " (") ; buffer_puts(buffer_1, sig[i].why) ; buffer_puts(buffer_1, ")") ; }
    buffer_puts(buffer_1, " d=") ; buffer_puts(buffer_1, sig[i].d) ;
    buffer_puts(buffer_1, " s=") ; buffer_puts(buffer_1, sig[i].s) ;
    buffer_puts(buffer_1, " a=") ; buffer_puts(buffer_1, sig[i].a) ;
    buffer_puts(buffer_1, " b=") ; buffer_puts(buffer_1, sig[i].b) ;
    buffer_puts(buffer_1, "\n") ;
  }
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write stdout") ;
  return 0 ;
}
