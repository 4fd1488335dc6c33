/* SPF's check_host() (src/lib/spf_check.c: record parsing, mechanisms,
   include and redirect, limits) with the DNS answers taken from the
   input: spf_dns_query is wrapped (-Wl,--wrap) and c-ares is not even
   linked, so no query leaves the process. Input: byte 0 picks the
   client (bits 0-1: one of four addresses, IPv4 and IPv6) and bit 2 a
   null sender (postmaster@ the HELO name); then one answer per query,
   in the order spf_check asks: a kind byte (its low 3 bits: 0 to 4 an
   answer, 5 no such record, 6 a DNS failure, 7 out of memory) and for
   an answer a 2-byte length (big-endian) and that many bytes: TXT
   records and MX hosts NUL-separated, A and AAAA addresses 4 or 16
   bytes each. Past the input every query finds nothing.
   Checked: each query a name of at most SPF_NAME_MAX bytes and a type
   spf_check asks (AAAA only for an IPv6 client), at most 1 + 10 x 11
   queries (the TXT record, and per counted lookup one query, or 1 + 10
   for mx), the lookup and void-lookup counts within one of their
   limits, nothing asked after a failed query and then temperror, none
   when the domain has no SPF record, a result among the seven. */
#include <string.h>
#include <arpa/nameser.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "spf.h"
#include "fuzz.h"

#define QUERIES_MAX (1 + SPF_LOOKUPS_MAX * (1 + SPF_MX_MAX))

static char const *const ips[4] = { "192.0.2.3", "2001:db8::cb01", "127.0.0.5", "::1" } ;
static uint8_t const *in ;
static size_t inlen ;
static unsigned int queries ;
static int failed ;      /* a query answered -1 or -2 */
static int six ;
static int first_has_spf ;
/* the hosts of the last MX answer: their A or AAAA queries take the
   names as the DNS gave them (an empty one, for a null MX, too) */
static stralloc mxhosts = STRALLOC_ZERO ;

static int from_mx (char const *name)
{
  for (size_t i = 0 ; i < mxhosts.len ; i += strlen(mxhosts.s + i) + 1)
    if (!strcmp(mxhosts.s + i, name)) return 1 ;
  return 0 ;
}

int __wrap_spf_dns_query (char const *name, int type, stralloc *sa, unsigned int *n, tain const *deadline) ;
int __wrap_spf_dns_query (char const *name, int type, stralloc *sa, unsigned int *n, tain const *deadline)
{
  uint8_t kind ;
  size_t len ;
  uint8_t const *p ;
  (void)deadline ;
  *n = 0 ;
  FUZZ_ASSERT(!failed) ;
  FUZZ_ASSERT(++queries <= QUERIES_MAX) ;
  FUZZ_ASSERT(name) ;
  FUZZ_ASSERT(type == ns_t_txt || type == ns_t_a || type == ns_t_aaaa || type == ns_t_mx) ;
  if (type == ns_t_txt || type == ns_t_mx || !from_mx(name)) FUZZ_ASSERT(*name && strlen(name) <= SPF_NAME_MAX) ;
  if (type == ns_t_aaaa) FUZZ_ASSERT(six) ;
  if (queries == 1) FUZZ_ASSERT(type == ns_t_txt) ;
  if (!inlen) return 0 ;
  kind = *in++ ; inlen-- ;
  switch (kind & 7)
  {
    case 5 : return 0 ;
    case 6 : failed = 1 ; return -1 ;
    case 7 : failed = 1 ; return -2 ;
    default : break ;
  }
  if (inlen < 2) { in += inlen ; inlen = 0 ; return 0 ; }
  len = (size_t)in[0] << 8 | in[1] ;
  in += 2 ; inlen -= 2 ;
  if (len > inlen) len = inlen ;
  p = in ;
  in += len ; inlen -= len ;
  if (type == ns_t_a || type == ns_t_aaaa)
  {
    size_t w = type == ns_t_a ? 4 : 16 ;
    for (size_t i = 0 ; i + w <= len && *n < SPF_ADDRS_MAX ; i += w, (*n)++)
      FUZZ_ASSERT(stralloc_catb(sa, (char const *)p + i, w)) ;
    return 1 ;
  }
  /* TXT records, MX hosts: NUL-ended each */
  if (type == ns_t_mx) mxhosts.len = 0 ;
  for (size_t i = 0 ; i < len ; )
  {
    uint8_t const *e = memchr(p + i, 0, len - i) ;
    size_t l = e ? (size_t)(e - (p + i)) : len - i ;
    FUZZ_ASSERT(stralloc_catb(sa, (char const *)p + i, l) && stralloc_0(sa)) ;
    if (type == ns_t_mx) FUZZ_ASSERT(stralloc_catb(&mxhosts, (char const *)p + i, l) && stralloc_0(&mxhosts)) ;
    if (queries == 1 && l >= 6 && !strncasecmp((char const *)p + i, "v=spf1", 6) && (l == 6 || p[i + 6] == ' ')) first_has_spf++ ;
    (*n)++ ;
    i += l + 1 ;
  }
  return 1 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  spf_ctx c ;
  enum spf_result r ;
  tain d ;
  if (!size) return 0 ;
  memset(&c, 0, sizeof c) ;
  FUZZ_ASSERT(ip46full_scan(ips[data[0] & 3], &c.ip)) ;
  six = !!c.ip.is6 ;
  c.helo = "helo.example.test" ;
  c.sender = data[0] & 4 ? "postmaster@helo.example.test" : "user.name@spf.example.test" ;
  tain_addsec(&d, &tain_zero, 42) ;
  c.deadline = d ;
  in = data + 1 ;
  inlen = size - 1 ;
  queries = 0 ;
  failed = 0 ;
  first_has_spf = 0 ;
  mxhosts.len = 0 ;
  r = spf_check(&c, data[0] & 4 ? "helo.example.test" : "spf.example.test") ;
  FUZZ_ASSERT(r >= SPF_NONE && r <= SPF_PERMERROR) ;
  FUZZ_ASSERT(spf_result_name(r) != 0) ;
  FUZZ_ASSERT(queries >= 1) ;
  FUZZ_ASSERT(c.lookups <= SPF_LOOKUPS_MAX + 1 && c.voids <= SPF_VOIDS_MAX + 1) ;
  FUZZ_ASSERT(!memcmp(&c.deadline, &d, sizeof d)) ;
  if (failed) FUZZ_ASSERT(r == SPF_TEMPERROR) ;
  /* no SPF record, or several: nothing more is asked */
  if (!failed && first_has_spf != 1)
  {
    FUZZ_ASSERT(queries == 1 && c.lookups == 0) ;
    FUZZ_ASSERT(r == (first_has_spf ? SPF_PERMERROR : SPF_NONE)) ;
  }
  /* a result other than temperror with no failure seen, or the other
     way round, would come from nowhere */
  if (r == SPF_TEMPERROR) FUZZ_ASSERT(failed) ;
  if (r == SPF_NONE) FUZZ_ASSERT(queries == 1) ;
  return 0 ;
}
