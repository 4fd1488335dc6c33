/* DKIM verification (src/lib/dkim_tag.c, dkim_key_parse.c,
   dkim_verify_head.c) on what arrives from outside: a key record from
   the DNS and a DKIM-Signature field. Input: byte 0 picks the test key
   (bit 0: Ed25519 or RSA) and whether the header is signed first (bit
   1); then the key record, the DKIM-Signature field and the header
   section, NUL-separated (the header is the rest).
   Checked: dkim_tag's value lies inside the list, no white space at its
   ends and no ';' in it, and it says -1, 0 or 1 as a reference reading
   of the tag-list here does; dkim_key_parse gives a key of a known kind
   (the kind k= names) or nothing; dkim_verify_head says -1, 0 or 1,
   and 0 for a key of the other algorithm than a=; a field that
   dkim_sign_head made over the header (bit 1) verifies with its key
   and fails with the other. Once, at start: the test keys' own DNS
   records (dkim_dns_value) parse back to the same keys.
   The keys are test keys, made for this harness only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <skalibs/stralloc.h>
#include "dkim.h"
#include "fuzz.h"

static char const rsa_pem[] =
  "-----BEGIN RSA PRIVATE KEY-----\n"
  "MIICWwIBAAKBgQDM2oTZfKHRrNVr1P/Xfw10S04KipZsOUiYEXhuaM/hFkSrT0U7\n"
  "Vg7XjzrQZQlN4YcwN5/odBtWMzuoqCZNc/OocM9Agf6A6xjO9dl2DdLdNDjk7LjB\n"
  "jUyuOg41n/OxarMmCX0MTjJi0Rm6eSaALodrs7XRBCkYXZjIQdXNxU3NGQIDAQAB\n"
  "AoGATKpvU7HIId+MFAooIa9ECsTwFRPezev2Visbpj6FphieZHqLT3Sao2PQQBPA\n"
  "EqyX2pzGtMlXPcB40Fr10sDVbAYGRORqWBs6emKWwY7d9K9oQwyum1TPVQgldRJz\n"
  "WN6tqiQNYJtisq2Xa7l55dAaY9HBj8iitIUZKzieNXWrkYECQQDwhfdu9FufMuJj\n"
  "ZY9YPEYoydsYgAVZDCDHFYNpeCEn+PRXOgsD02TZmQ9kbcH3ZYMjRnJpKLn6qQ+d\n"
  "eLYVFd5JAkEA2gj7JBo5cf0kHqBnsxlIR5iNzRCqYgt9dDKvOonZXU5VysYidpoW\n"
  "oKa9q9GKGd0YUGsC8QWjU/uV2IE57K64UQJASjruLD4Z8L4BhG+Zl7+yX3A8wAjy\n"
  "nZLSot6O2gQLJ4z7y9fMAnhBTa6hQ3tkO3gGyuI4+R9qlmOKwCy69TL0kQJAKOJg\n"
  "PV/Rf8do+3k2mMXX4N0BUf+bA3GGH8DVTNPGd5GV0sUed0Djl1JM5KgRDlKAGaxH\n"
  "S+yzuK7HZWat9uy4UQJAYGjX+bxgXKtcXx+qj/Krj0keCtN7qfIz0MaeKGS6VTgS\n"
  "xDeW5DMX9h8ulgpI0OyfeaRbLcFzS/Oi+QUO7VhvIg==\n"
  "-----END RSA PRIVATE KEY-----\n"
  ;

static EVP_PKEY *keys[2] ;   /* ed25519, rsa */

static int fws (char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' ; }

/* RFC 6376 3.2 read here: -1 if a tag-spec has no '=' or no name or
   name is there twice, else how many times it is there */
static int ref_tag (char const *s, size_t len, char const *name)
{
  size_t nlen = strlen(name), i = 0 ;
  int count = 0, bad = 0 ;
  while (i <= len)
  {
    char const *semi = memchr(s + i, ';', len - i) ;
    size_t end = semi ? (size_t)(semi - s) : len, a = i, b ;
    char const *eq ;
    while (a < end && fws(s[a])) a++ ;
    if (a < end)
    {
      eq = memchr(s + a, '=', end - a) ;
      if (!eq) bad = 1 ;
      else
      {
        b = eq - s ;
        while (b > a && fws(s[b - 1])) b-- ;
        if (b == a) bad = 1 ;
        else if (b - a == nlen && !memcmp(s + a, name, nlen)) count++ ;
      }
    }
    if (!semi) break ;
    i = end + 1 ;
  }
  return bad || count > 1 ? -1 : count ;
}

static void check_tags (char const *s, size_t len)
{
  static char const *const names[] = { "v", "k", "p", "a", "b", "bh", "c", "d", "h", "s", "t", "x", "l", "i" } ;
  for (size_t j = 0 ; j < sizeof names / sizeof *names ; j++)
  {
    char const *v = 0 ;
    size_t vlen = 0 ;
    int r = dkim_tag(s, len, names[j], &v, &vlen) ;
    FUZZ_ASSERT(r == ref_tag(s, len, names[j])) ;
    if (r != 1) continue ;
    FUZZ_ASSERT(v >= s && vlen <= len && v + vlen <= s + len) ;
    FUZZ_ASSERT(!memchr(v, ';', vlen)) ;
    if (vlen) FUZZ_ASSERT(!fws(v[0]) && !fws(v[vlen - 1])) ;
  }
}

static EVP_PKEY *parse_key (char const *s, size_t len)
{
  EVP_PKEY *key = 0 ;
  char const *k ;
  size_t klen ;
  int r = dkim_key_parse(&key, s, len) ;
  FUZZ_ASSERT(r == 0 || r == 1) ;
  if (!r) { FUZZ_ASSERT(!key) ; return 0 ; }
  FUZZ_ASSERT(key && dkim_key_kind(key)) ;
  if (dkim_tag(s, len, "k", &k, &klen) == 1)
    FUZZ_ASSERT(strlen(dkim_key_kind(key)) == klen && !memcmp(dkim_key_kind(key), k, klen)) ;
  else FUZZ_ASSERT(!strcmp(dkim_key_kind(key), "rsa")) ;
  return key ;
}

/* the algorithm a= names: 0 ed25519, 1 rsa, -1 another or none */
static int alg (char const *field, size_t len)
{
  char const *colon = memchr(field, ':', len), *v ;
  size_t vlen ;
  if (!colon) return -1 ;
  colon++ ;
  if (dkim_tag(colon, len - (colon - field), "a", &v, &vlen) != 1) return -1 ;
  if (vlen == 14 && !memcmp(v, "ed25519-sha256", 14)) return 0 ;
  if (vlen == 10 && !memcmp(v, "rsa-sha256", 10)) return 1 ;
  return -1 ;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  static unsigned char const seed[32] = "postern fuzz test key, not used" ;
  BIO *b = BIO_new_mem_buf(rsa_pem, sizeof rsa_pem - 1) ;
  (void)argc ; (void)argv ;
  keys[0] = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, 0, seed, sizeof seed) ;
  keys[1] = b ? PEM_read_bio_PrivateKey(b, 0, 0, 0) : 0 ;
  BIO_free(b) ;
  if (!keys[0] || !keys[1]) abort() ;
  for (int i = 0 ; i < 2 ; i++)
  {
    stralloc rec = STRALLOC_ZERO ;
    EVP_PKEY *pub ;
    FUZZ_ASSERT(dkim_dns_value(&rec, keys[i])) ;
    pub = parse_key(rec.s, rec.len) ;
    FUZZ_ASSERT(pub && EVP_PKEY_eq(pub, keys[i]) == 1) ;
    EVP_PKEY_free(pub) ;
    stralloc_free(&rec) ;
  }
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char const *rec, *field, *head, *e ;
  size_t reclen, fieldlen, headlen ;
  EVP_PKEY *key, *other ;
  int r, a ;
  if (!size || size > DKIM_HEADER_MAX) return 0 ;
  key = keys[data[0] & 1] ;
  other = keys[!(data[0] & 1)] ;
  rec = (char const *)data + 1 ;
  e = memchr(rec, 0, size - 1) ;
  reclen = e ? (size_t)(e - rec) : size - 1 ;
  field = e ? e + 1 : rec + reclen ;
  e = memchr(field, 0, (char const *)data + size - field) ;
  fieldlen = e ? (size_t)(e - field) : (size_t)((char const *)data + size - field) ;
  head = e ? e + 1 : field + fieldlen ;
  headlen = (char const *)data + size - head ;

  /* the key record */
  check_tags(rec, reclen) ;
  {
    EVP_PKEY *k = parse_key(rec, reclen) ;
    if (k)
    {
      /* the field checked with the key of the record, too */
      r = dkim_verify_head(k, field, fieldlen, head, headlen) ;
      FUZZ_ASSERT(r >= -1 && r <= 1) ;
      EVP_PKEY_free(k) ;
    }
  }

  /* the field */
  {
    char const *colon = memchr(field, ':', fieldlen) ;
    if (colon) check_tags(colon + 1, fieldlen - (colon + 1 - field)) ;
  }
  r = dkim_verify_head(key, field, fieldlen, head, headlen) ;
  FUZZ_ASSERT(r >= -1 && r <= 1) ;
  /* FUZZ_VERBOSE=1: the verdict with the test key, on stderr */
  if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "dkim_verify_head: %d\n", r) ;
  a = alg(field, fieldlen) ;
  if (a < 0) FUZZ_ASSERT(r == -1) ;
  else if (a != (data[0] & 1) && memchr(field, ':', fieldlen)) FUZZ_ASSERT(r == 0) ;

  /* signed here, verified here */
  if (data[0] & 2)
  {
    static unsigned char const bh[DKIM_HASH_LEN] = { 1, 2, 3 } ;
    stralloc f = STRALLOC_ZERO ;
    dkim_sign d = { .domain = "example.test", .selector = "fuzz", .key = key, .t = 1764000000 } ;
    FUZZ_ASSERT(dkim_sign_head(&f, &d, head, headlen, bh)) ;
    FUZZ_ASSERT(f.len > 2 && f.s[f.len - 2] == '\r' && f.s[f.len - 1] == '\n') ;
    FUZZ_ASSERT(dkim_verify_head(key, f.s, f.len - 2, head, headlen) == 1) ;
    FUZZ_ASSERT(dkim_verify_head(other, f.s, f.len - 2, head, headlen) == 0) ;
    stralloc_free(&f) ;
  }
  return 0 ;
}
