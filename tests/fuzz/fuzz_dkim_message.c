/* DKIM verification of a whole message (src/lib/dkim_verify.c and what
   it calls: dkim_sig_parse, dkim_key_parse, the body hash, the header
   hash), as smtpd checks what a client sent. Input: a key record line
   (empty: no record; "T": the lookup fails), then the message. Checked:
   at most DKIM_VERIFY_MAX results, each a known one; d=, s=, a= and b=
   as reported are of the characters an Authentication-Results field
   may carry them in; pass comes with no reason, any other with one. */
#include <string.h>
#include <skalibs/stralloc.h>
#include "dkim.h"
#include "fuzz.h"

static int lookup (stralloc *sa, char const *name, void *arg)
{
  stralloc const *record = arg ;
  FUZZ_ASSERT(strlen(name) < DKIM_SELECTOR_MAX + 12 + DKIM_DOMAIN_MAX + 1) ;
  FUZZ_ASSERT(strstr(name, "._domainkey.")) ;
  if (!record->len) return 0 ;
  if (record->len == 1 && record->s[0] == 'T') return -1 ;
  return stralloc_catb(sa, record->s, record->len) && stralloc_0(sa) ? 1 : -1 ;
}

static void check_name (char const *s, size_t max, char const *extra)
{
  size_t n = strlen(s) ;
  FUZZ_ASSERT(n <= max) ;
  for (size_t i = 0 ; i < n ; i++)
    FUZZ_ASSERT((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || strchr(extra, s[i])) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  stralloc record = STRALLOC_ZERO ;
  dkim_sig sig[DKIM_VERIFY_MAX] ;
  char const *m = (char const *)data, *nl = memchr(m, '\n', size) ;
  size_t rlen = nl ? (size_t)(nl - m) : 0, off = nl ? rlen + 1 : 0 ;
  unsigned int n ;
  FUZZ_ASSERT(stralloc_catb(&record, m, rlen)) ;
  n = dkim_verify(sig, DKIM_VERIFY_MAX, m + off, size - off, 1700000000, &lookup, &record) ;
  FUZZ_ASSERT(n <= DKIM_VERIFY_MAX) ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    FUZZ_ASSERT((unsigned int)sig[i].result <= DKIM_PERMERROR) ;
    FUZZ_ASSERT((sig[i].result == DKIM_PASS) == !sig[i].why) ;
    check_name(sig[i].d, DKIM_DOMAIN_MAX, "-_.") ;
    check_name(sig[i].s, DKIM_SELECTOR_MAX, "-_.") ;
    check_name(sig[i].a, DKIM_ALG_MAX, "-_.") ;
    check_name(sig[i].b, 8, "+/") ;
    if (sig[i].result == DKIM_PASS) FUZZ_ASSERT(sig[i].d[0] && sig[i].s[0] && sig[i].b[0]) ;
  }
  stralloc_free(&record) ;
  return 0 ;
}
