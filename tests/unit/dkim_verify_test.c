/* dkim_verify_test record < message: the message's first DKIM-Signature
   checked with the key of the DNS record given (dkim_key_parse,
   dkim_verify_head, and the relaxed body hash against bh=); prints
   "pass", "fail" or "permerror". Exits 0, 111 on error. */

#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "base64.h"
#include "dkim.h"

#define USAGE "dkim_verify_test record < message"

static char const *verdict (char const *record, char const *m, size_t len)
{
  size_t headlen = 0, pos = 0, start, flen, vlen, i ;
  char const *v ;
  char bh64[64], bh[48] ;
  unsigned char got[DKIM_HASH_LEN] ;
  dkim_body b = DKIM_BODY_ZERO ;
  EVP_PKEY *key = 0 ;
  int r ;
  /* the header section ends at the first empty line */
  while (headlen < len)
  {
    if (m[headlen] == '\n' && (headlen + 1 == len || m[headlen + 1] == '\n' || (m[headlen + 1] == '\r' && headlen + 2 < len && m[headlen + 2] == '\n'))) { headlen++ ; break ; }
    headlen++ ;
  }
  for (;;)
  {
    if (!dkim_field_next(m, headlen, &pos, &start, &flen)) return "none" ;
    if (flen > 15 && !strncasecmp(m + start, "dkim-signature:", 15)) break ;
  }
  if (!dkim_key_parse(&key, record, strlen(record))) return "permerror" ;
  r = dkim_verify_head(key, m + start, flen, m, headlen) ;
  EVP_PKEY_free(key) ;
  if (r < 0) return "permerror" ;
  if (!r) return "fail" ;
  {
    char const *val = memchr(m + start, ':', flen) + 1 ;
    size_t n = 0 ;
    if (dkim_tag(val, flen - (val - (m + start)), "bh", &v, &vlen) != 1) return "permerror" ;
    for (i = 0 ; i < vlen && n < sizeof bh64 ; i++) if (v[i] != ' ' && v[i] != '\t' && v[i] != '\r' && v[i] != '\n') bh64[n++] = v[i] ;
    if (base64_decode(bh, bh64, n) != DKIM_HASH_LEN) return "fail" ;
  }
  /* the body: after the empty line */
  pos = headlen ;
  if (pos < len && m[pos] == '\r') pos++ ;
  if (pos < len && m[pos] == '\n') pos++ ;
  if (!dkim_body_init(&b)) strerr_diefu1x(111, "hash") ;
  while (pos < len)
  {
    size_t e = pos ;
    while (e < len && m[e] != '\n') e++ ;
    if (!dkim_body_line(&b, m + pos, e > pos && m[e-1] == '\r' ? e - pos - 1 : e - pos)) strerr_diefu1x(111, "hash") ;
    pos = e + 1 ;
  }
  if (!dkim_body_final(&b, got)) strerr_diefu1x(111, "hash") ;
  return memcmp(got, bh, DKIM_HASH_LEN) ? "fail" : "pass" ;
}

int main (int argc, char const *const *argv)
{
  stralloc m = STRALLOC_ZERO ;
  PROG = "dkim_verify_test" ;
  if (argc != 2) strerr_dieusage(100, USAGE) ;
  if (!slurp(&m, 0)) strerr_diefu1sys(111, "read stdin") ;
  buffer_puts(buffer_1, verdict(argv[1], m.s, m.len)) ;
  buffer_putflush(buffer_1, "\n", 1) ;
  return 0 ;
}
