/* DNS answers as c-ares hands them to remote (src/remote/remote_dns.c,
   linked as objects: remote is being changed elsewhere): ares_query is
   replaced (wrapped) by a call of its callback with the input's packet
   for that query type, so what is fuzzed is c-ares' parsers as remote
   calls them plus remote's handling, up to remote_dest_find's list of
   addresses. Input: byte 0 picks the domain (and so routes.cdb's entry)
   and how many addresses may be used; bytes 1-4 the lengths of the MX and
   AAAA packets; then the MX, AAAA and A packets (the A one is the rest).
   Checked: counts within their bounds, host names NUL-ended within
   REMOTE_NAME_MAX, a status that agrees with what was found, and no
   address without a recipient left undecided. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "remote.h"
#include "route.h"
#include "fuzz.h"

static uint8_t const *pkt[3] ;
static size_t pktlen[3] ;
static int status ;
static unsigned int queries ;

void __wrap_ares_query (ares_channel ch, char const *name, int dnsclass, int type, ares_callback cb, void *arg) ;
void __wrap_ares_query (ares_channel ch, char const *name, int dnsclass, int type, ares_callback cb, void *arg)
{
  static unsigned char buf[3][16384] ;
  int k = type == ns_t_mx ? 0 : type == ns_t_aaaa ? 1 : 2 ;
  (void)ch ; (void)dnsclass ;
  FUZZ_ASSERT(name && strlen(name) <= REMOTE_NAME_MAX) ;
  FUZZ_ASSERT(type == ns_t_mx || type == ns_t_aaaa || type == ns_t_a) ;
  queries++ ;
  /* a copy each time: c-ares' buffer is not const */
  memcpy(buf[k], pkt[k], pktlen[k]) ;
  (*cb)(arg, status, 0, buf[k], (int)pktlen[k]) ;
}

/* no channel: every query is answered at once by the wrapper */
int __wrap_remote_dns_init (tain const *deadline, stralloc *err) ;
int __wrap_remote_dns_init (tain const *deadline, stralloc *err)
{
  (void)deadline ; (void)err ;
  return 1 ;
}

static char const *const domains[8] =
{
  "example.test", "example.test", "example.test", "routed.test",
  "bracket.test", "bad.test", "[192.0.2.1]", "[IPv6:2001:db8::1]"
} ;
static int const statuses[4] = { ARES_SUCCESS, ARES_SUCCESS, ARES_ENOTFOUND, ARES_ETIMEOUT } ;

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  fuzz_home() ;
  fuzz_cdb(ROUTE_STATIC, "routed.test", "relay.example.test:2525", "bracket.test", "[relay.example.test]",
    "bad.test", "[relay.example.test", (char *)0) ;
  fuzz_quiet() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static remote_ctx c ;
  static remote_dest d[REMOTE_ADDRS_MAX] ;
  dns_mx mx[REMOTE_MX_MAX] ;
  stralloc err = STRALLOC_ZERO ;
  unsigned int n, max ;
  size_t l0, l1 ;
  enum dns_status st ;
  if (size < 5) return 0 ;
  l0 = data[1] | (size_t)data[2] << 8 ;
  l1 = data[3] | (size_t)data[4] << 8 ;
  if (l0 > size - 5 || l1 > size - 5 - l0 || size - 5 - l0 - l1 > 16384 || l0 > 16384 || l1 > 16384) return 0 ;
  pkt[0] = data + 5 ; pktlen[0] = l0 ;
  pkt[1] = data + 5 + l0 ; pktlen[1] = l1 ;
  pkt[2] = data + 5 + l0 + l1 ; pktlen[2] = size - 5 - l0 - l1 ;
  status = statuses[data[0] >> 6] ;

  /* the MX lookup alone */
  queries = 0 ;
  st = remote_dns_mx_lookup("example.test", mx, REMOTE_MX_MAX, &n, &err) ;
  FUZZ_ASSERT(queries == 1 && n <= REMOTE_MX_MAX) ;
  FUZZ_ASSERT((st == DNS_OK) == (n > 0)) ;
  FUZZ_ASSERT((st == DNS_TEMP) == (err.len > 0)) ;
  for (unsigned int i = 0 ; i < n ; i++) FUZZ_ASSERT(strlen(mx[i].host) <= REMOTE_NAME_MAX && mx[i].pref <= 65535) ;
  stralloc_free(&err) ;

  /* where the mail would go */
  memset(&c, 0, sizeof c) ;
  c.domain = domains[data[0] & 7] ;
  c.n = 2 ;
  c.rcpts[0].addr = "a@example.test" ;
  c.rcpts[1].addr = "b@example.test" ;
  c.timeoutdns = 5 ;
  max = 1 + (data[0] >> 3 & 7) % REMOTE_ADDRS_MAX ;
  n = remote_dest_find(&c, d, max) ;
  FUZZ_ASSERT(n <= max) ;
  for (unsigned int i = 0 ; i < c.n ; i++)
  {
    if (!n) FUZZ_ASSERT(c.rcpts[i].status == 'Z' || c.rcpts[i].status == 'D') ;
    else FUZZ_ASSERT(!c.rcpts[i].status) ;
    FUZZ_ASSERT(c.rcpts[i].text.len <= REMOTE_TEXT_MAX) ;
    stralloc_free(&c.rcpts[i].text) ;
  }
  /* FUZZ_VERBOSE=1: the addresses found, on stderr */
  if (getenv("FUZZ_VERBOSE"))
    for (unsigned int i = 0 ; i < n ; i++)
    {
      char fmt[IP46_FMT] ;
      fmt[ip46_fmt(fmt, &d[i].ip)] = 0 ;
      fprintf(stderr, "%s %s %u\n", d[i].host, fmt, d[i].port) ;
    }
  for (unsigned int i = 0 ; i < n ; i++)
  {
    FUZZ_ASSERT(strlen(d[i].host) <= REMOTE_NAME_MAX && d[i].port) ;
    if (d[i].host[0] != '[') FUZZ_ASSERT(d[i].host[0]) ;
  }
  return 0 ;
}
