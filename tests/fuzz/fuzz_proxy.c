/* proxy_parse (src/lib/proxy_parse.c), what proxy-header and
   smtpd-listen read first from a balancer. The input is the first bytes
   of a connection. Asserted, for every beginning of it: the answers go
   "more" (0) until one length r > 0 that then stays r whatever follows,
   or until "bad" (-1) that stays bad; r is at most PROXY_MAX and the
   header alone gives r again; a v1 header ends with CR LF; a named
   client has canonical addresses (inet_pton then inet_ntop gives them
   back) and ports of 16 bits; "more" never past PROXY_MAX bytes. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "proxy.h"
#include "fuzz.h"

static void canonical (char const *ip, int v6)
{
  unsigned char bin[16] ;
  char back[PROXY_IP_MAX] ;
  FUZZ_ASSERT(memchr(ip, 0, PROXY_IP_MAX)) ;
  FUZZ_ASSERT(inet_pton(v6 ? AF_INET6 : AF_INET, ip, bin) == 1) ;
  FUZZ_ASSERT(inet_ntop(v6 ? AF_INET6 : AF_INET, bin, back, sizeof back)) ;
  FUZZ_ASSERT(!strcmp(ip, back)) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  proxy_info p ;
  ssize_t settled = 0 ;
  size_t at = 0 ;
  if (size > 2 * PROXY_MAX) return 0 ;
  for (size_t k = 1 ; k <= size ; k++)
  {
    char const *s = fuzz_guard(data, k) ;
    ssize_t r = proxy_parse(&p, s, k) ;
    if (!settled)
    {
      if (!r) { FUZZ_ASSERT(k < PROXY_MAX) ; continue ; }
      settled = r ; at = k ;
      if (r < 0) continue ;
      FUZZ_ASSERT((size_t)r == k) ;
      FUZZ_ASSERT(r <= PROXY_MAX) ;
      if (s[0] == 'P') FUZZ_ASSERT(r >= 2 && s[r - 2] == '\r' && s[r - 1] == '\n') ;
      if (!p.local)
      {
        canonical(p.src, p.v6) ;
        canonical(p.dst, p.v6) ;
        FUZZ_ASSERT(p.sport <= 65535 && p.dport <= 65535) ;
      }
      else FUZZ_ASSERT(!p.src[0] && !p.dst[0]) ;
    }
    else FUZZ_ASSERT(r == settled) ;
  }
  (void)at ;
  return 0 ;
}
