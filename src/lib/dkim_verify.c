/* RFC 6376 6: each DKIM-Signature field of a message, top first: its
   tags, its key (found by key()), its body hash, its signature. */

#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>
#include <skalibs/stralloc.h>
#include "dkim.h"

/* the key's name: selector "._domainkey." domain */
#define KEYNAME_MAX (DKIM_SELECTOR_MAX + 12 + DKIM_DOMAIN_MAX + 1)

static void set (dkim_sig *g, enum dkim_result r, char const *why)
{
  g->result = r ;
  g->why = why ;
}

/* the body from body to end, hashed as g asks: 1 if it is bh=, 0 if
   not, -1 if OpenSSL failed */
static int body_matches (dkim_sig const *g, char const *m, size_t pos, size_t len)
{
  dkim_body b = DKIM_BODY_ZERO ;
  unsigned char h[DKIM_HASH_LEN] ;
  if (!dkim_body_start(&b, g->simplebody, g->l)) return -1 ;
  while (pos < len && b.left)
  {
    char const *e = memchr(m + pos, '\n', len - pos) ;
    size_t end = e ? (size_t)(e - m) : len ;
    size_t n = end - pos ;
    if (n && m[end - 1] == '\r') n-- ;
    if (!dkim_body_line(&b, m + pos, n)) { dkim_body_final(&b, h) ; return -1 ; }
    pos = end + 1 ;
  }
  if (!dkim_body_final(&b, h)) return -1 ;
  return !memcmp(h, g->bh, DKIM_HASH_LEN) ;
}

/* 3.6.1: a record for another service (s=) is not for us: as if absent */
static int for_email (char const *rec, size_t n)
{
  char const *v ;
  size_t vlen ;
  int r = dkim_tag(rec, n, "s", &v, &vlen) ;
  return r <= 0 || dkim_listed(v, vlen, "*") || dkim_listed(v, vlen, "email") ;
}

/* 6.1.2: the key's k= and h= suit a= (inappropriate key or hash
   algorithm otherwise) */
static int suits (dkim_sig const *g, EVP_PKEY *k, char const *rec, size_t n)
{
  char const *kind = dkim_key_kind(k), *v ;
  size_t vlen ;
  if (!kind || strncmp(g->a, kind, strlen(kind)) || g->a[strlen(kind)] != '-') return 0 ;
  return dkim_tag(rec, n, "h", &v, &vlen) <= 0 || dkim_listed(v, vlen, "sha256") ;
}

static EVP_PKEY *find_key (dkim_sig *g, dkim_keyfn *key, void *arg)
{
  char name[KEYNAME_MAX] ;
  stralloc recs = STRALLOC_ZERO ;
  size_t sl = strlen(g->s), dl = strlen(g->d), pos = 0 ;
  EVP_PKEY *k = 0 ;
  char const *why = "no key" ;
  int r ;
  memcpy(name, g->s, sl) ;
  memcpy(name + sl, "._domainkey.", 12) ;
  memcpy(name + sl + 12, g->d, dl + 1) ;
  r = key(&recs, name, arg) ;
  if (r < 0) { set(g, DKIM_TEMPERROR, "key lookup failed") ; goto end ; }
  /* 3.6.2.2: several records are undefined; the first usable one is taken */
  while (r && pos < recs.len && !k)
  {
    char const *rec = recs.s + pos ;
    size_t n = strnlen(rec, recs.len - pos) ;
    pos += n + 1 ;
    if (!for_email(rec, n)) continue ;
    if (!dkim_key_cached(&k, rec, n)) { k = 0 ; why = "bad key" ; continue ; }
    if (!suits(g, k, rec, n)) { EVP_PKEY_free(k) ; k = 0 ; why = "key not for the algorithm" ; }
  }
  if (!k) set(g, DKIM_PERMERROR, why) ;
 end:
  stralloc_free(&recs) ;
  return k ;
}

static void check (dkim_sig *g, char const *field, size_t flen, char const *m, size_t headlen, size_t body, size_t len, uint64_t now, dkim_keyfn *key, void *arg)
{
  EVP_PKEY *k ;
  int r ;
  if (!dkim_sig_parse(g, field, flen, now)) return ;
  if (headlen > DKIM_HEADER_MAX) { set(g, DKIM_POLICY, "header section too long to check") ; return ; }
  k = find_key(g, key, arg) ;
  if (!k) return ;
  r = body_matches(g, m, body, len) ;
  if (r < 0) set(g, DKIM_TEMPERROR, "out of memory") ;
  else if (!r) set(g, DKIM_FAIL, "body hash did not verify") ;
  else
  {
    r = dkim_verify_head(k, field, flen, m, headlen) ;
    if (r > 0) set(g, DKIM_PASS, 0) ;
    else if (!r) set(g, DKIM_FAIL, "signature did not verify") ;
    else set(g, DKIM_NEUTRAL, "malformed signature") ;
  }
  EVP_PKEY_free(k) ;
}

unsigned int dkim_verify (dkim_sig *sig, unsigned int max, char const *m, size_t len, uint64_t now, dkim_keyfn *key, void *arg)
{
  size_t headlen, body, pos = 0, start, flen ;
  unsigned int n = 0 ;
  dkim_head_split(m, len, &headlen, &body) ;
  while (n < max && dkim_field_next(m, headlen, &pos, &start, &flen))
    if (dkim_is_signature(m + start, flen))
      check(sig + n++, m + start, flen, m, headlen, body, len, now, key, arg) ;
  return n ;
}
