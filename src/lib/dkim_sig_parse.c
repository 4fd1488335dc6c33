/* RFC 6376 3.5 and 6.1.1: what makes a signature one a verifier can
   check. d=, s=, a= and b= are taken first, so that the result names
   the signature even when another tag is wrong. */

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "base64.h"
#include "dkim.h"

#define MALFORMED "malformed signature"

static int bad (dkim_sig *g, enum dkim_result r, char const *why)
{
  g->result = r ;
  g->why = why ;
  return 0 ;
}

/* a domain or selector: letters, digits, '-', '_' and '.', not empty;
   d stays "" if v is not one */
static void name_copy (char *d, size_t max, char const *v, size_t vlen, int lower)
{
  d[0] = 0 ;
  if (!vlen || vlen > max || *v == '.') return ;
  for (size_t i = 0 ; i < vlen ; i++)
  {
    char c = v[i] ;
    if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.') return ;
  }
  for (size_t i = 0 ; i < vlen ; i++) d[i] = lower && v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i] ;
  d[vlen] = 0 ;
}

/* digits only (1*76DIGIT, 3.5); a value past 2^64 stays at the top */
static int number (char const *v, size_t vlen, uint64_t *u)
{
  uint64_t x = 0 ;
  if (!vlen || vlen > 76) return 0 ;
  for (size_t i = 0 ; i < vlen ; i++)
  {
    if (v[i] < '0' || v[i] > '9') return 0 ;
    x = x > (UINT64_MAX - 9) / 10 ? UINT64_MAX - 1 : x * 10 + (v[i] - '0') ;
  }
  *u = x ;
  return 1 ;
}

static int canon (char const *v, size_t vlen, int *simple)
{
  if (vlen == 6 && !memcmp(v, "simple", 6)) *simple = 1 ;
  else if (vlen == 7 && !memcmp(v, "relaxed", 7)) *simple = 0 ;
  else return 0 ;
  return 1 ;
}

int dkim_sig_parse (dkim_sig *g, char const *field, size_t len, uint64_t now)
{
  char const *val = memchr(field, ':', len), *v ;
  size_t vlen, tl ;
  uint64_t t = 0, x ;
  int r ;
  g->d[0] = g->s[0] = g->a[0] = g->b[0] = 0 ;
  g->why = 0 ;
  g->l = UINT64_MAX ;
  g->simplehead = g->simplebody = 1 ;
  if (!val) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  val++ ;
  tl = len - (val - field) ;
  if (dkim_tag(val, tl, "d", &v, &vlen) == 1) name_copy(g->d, DKIM_DOMAIN_MAX, v, vlen, 1) ;
  if (dkim_tag(val, tl, "s", &v, &vlen) == 1) name_copy(g->s, DKIM_SELECTOR_MAX, v, vlen, 0) ;
  if (dkim_tag(val, tl, "a", &v, &vlen) == 1 && vlen <= DKIM_ALG_MAX) name_copy(g->a, DKIM_ALG_MAX, v, vlen, 1) ;
  if (dkim_tag(val, tl, "b", &v, &vlen) == 1)
  {
    size_t n = 0 ;
    for (size_t i = 0 ; i < vlen && n < 8 ; i++)
      if ((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '+' || v[i] == '/') g->b[n++] = v[i] ;
    g->b[n] = 0 ;
  }
  if (dkim_tag(val, tl, "v", &v, &vlen) != 1 || vlen != 1 || *v != '1') return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  if (!g->d[0] || !g->s[0] || !g->b[0]) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  if (strcmp(g->a, "rsa-sha256") && strcmp(g->a, "ed25519-sha256")) return bad(g, DKIM_NEUTRAL, "unsupported algorithm") ;
  r = dkim_tag(val, tl, "c", &v, &vlen) ;
  if (r < 0) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  if (r)
  {
    size_t k = 0 ;
    while (k < vlen && v[k] != '/') k++ ;
    if (!canon(v, k, &g->simplehead) || (k < vlen && !canon(v + k + 1, vlen - k - 1, &g->simplebody)))
      return bad(g, DKIM_NEUTRAL, "unsupported canonicalization") ;
  }
  /* 5.4: From must be signed */
  if (dkim_tag(val, tl, "h", &v, &vlen) != 1 || !dkim_listed(v, vlen, "from")) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  r = dkim_tag(val, tl, "q", &v, &vlen) ;
  if (r < 0 || (r && !dkim_listed(v, vlen, "dns/txt"))) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  r = dkim_tag(val, tl, "i", &v, &vlen) ;
  if (r < 0) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  if (r)
  {
    /* 3.5: i='s domain is d= or a subdomain of it */
    char const *at = memchr(v, '@', vlen) ;
    size_t dl = strlen(g->d), il ;
    if (!at) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
    while (memchr(at + 1, '@', v + vlen - at - 1)) at = memchr(at + 1, '@', v + vlen - at - 1) ;
    at++ ;
    il = v + vlen - at ;
    if (il < dl || strncasecmp(at + il - dl, g->d, dl) || (il > dl && at[il - dl - 1] != '.'))
      return bad(g, DKIM_NEUTRAL, "identity outside the signing domain") ;
  }
  r = dkim_tag(val, tl, "l", &v, &vlen) ;
  if (r < 0 || (r && !number(v, vlen, &g->l))) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  r = dkim_tag(val, tl, "t", &v, &vlen) ;
  if (r < 0 || (r && !number(v, vlen, &t))) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  r = dkim_tag(val, tl, "x", &v, &vlen) ;
  if (r < 0 || (r && !number(v, vlen, &x))) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  if (r)
  {
    if (x < t) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
    if (x < now) return bad(g, DKIM_NEUTRAL, "signature expired") ;
  }
  if (dkim_tag(val, tl, "bh", &v, &vlen) != 1) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
  {
    char b64[64], raw[48] ;
    size_t n = dkim_squeeze(b64, sizeof b64, v, vlen) ;
    if (n > sizeof b64 || base64_decode(raw, b64, n) != DKIM_HASH_LEN) return bad(g, DKIM_NEUTRAL, MALFORMED) ;
    memcpy(g->bh, raw, DKIM_HASH_LEN) ;
  }
  return 1 ;
}
