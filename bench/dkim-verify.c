/* dkim-verify n record < message: dkim_verify on the message n times in
   one process, as a smtpd worker does message after message; prints the
   result and the CPU per verification, the first one apart (OpenSSL's
   set-up). The key is record, for every name. */

#include <string.h>
#include <sys/resource.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "dkim.h"

static int lookup (stralloc *sa, char const *name, void *arg)
{
  (void)name ;
  return stralloc_cats(sa, arg) && stralloc_0(sa) ? 1 : -1 ;
}

static unsigned long long cpu_us (void)
{
  struct rusage ru ;
  if (getrusage(RUSAGE_SELF, &ru) < 0) strerr_diefu1sys(111, "getrusage") ;
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ULL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec ;
}

int main (int argc, char const *const *argv)
{
  stralloc m = STRALLOC_ZERO ;
  dkim_sig sig[DKIM_VERIFY_MAX] ;
  unsigned int n, k = 0 ;
  unsigned long long t0, t1, t2 ;
  char fmt[ULONG_FMT] ;
  PROG = "dkim-verify" ;
  if (argc != 3 || !uint0_scan(argv[1], &n) || n < 2) strerr_dieusage(100, "dkim-verify n record < message") ;
  if (!slurp(&m, 0)) strerr_diefu1sys(111, "read stdin") ;
  t0 = cpu_us() ;
  k = dkim_verify(sig, DKIM_VERIFY_MAX, m.s, m.len, 0, &lookup, (void *)argv[2]) ;
  t1 = cpu_us() ;
  for (unsigned int i = 1 ; i < n ; i++) dkim_verify(sig, DKIM_VERIFY_MAX, m.s, m.len, 0, &lookup, (void *)argv[2]) ;
  t2 = cpu_us() ;
  buffer_puts(buffer_1, k ? dkim_result_name(sig[0].result) : "none") ;
  buffer_puts(buffer_1, ": first ") ;
  fmt[ulong_fmt(fmt, t1 - t0)] = 0 ;
  buffer_puts(buffer_1, fmt) ;
  buffer_puts(buffer_1, " us, then ") ;
  fmt[ulong_fmt(fmt, (t2 - t1) / (n - 1))] = 0 ;
  buffer_puts(buffer_1, fmt) ;
  buffer_puts(buffer_1, " us CPU per message\n") ;
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write stdout") ;
  return 0 ;
}
