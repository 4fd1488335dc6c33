/* RFC 6376 6.1.3: the header hash input made as the signer made it
   (dkim_sign_head.c), with the field's own b= value deleted and its
   surrounding white space (3.5), then checked against b=. Simple or
   relaxed header canonicalization, simple without c= (3.5). */

#include <string.h>
#include <openssl/evp.h>
#include <skalibs/stralloc.h>
#include "base64.h"
#include "dkim.h"

/* a signature: RSA of 8192 bits is 1024 bytes, 1368 in base64 */
#define SIG_MAX 1024
#define SIG64_MAX 1400

static int check (EVP_PKEY *key, int ed, char const *in, size_t inlen, unsigned char const *sig, size_t siglen)
{
  unsigned char digest[DKIM_HASH_LEN] ;
  EVP_MD_CTX *md = EVP_MD_CTX_new() ;
  int ok ;
  if (!md) return -1 ;
  if (ed)
  {
    unsigned int n = 0 ;
    ok = EVP_Digest(in, inlen, digest, &n, EVP_sha256(), 0) && n == DKIM_HASH_LEN
      && EVP_DigestVerifyInit(md, 0, 0, 0, key) == 1
      && EVP_DigestVerify(md, sig, siglen, digest, DKIM_HASH_LEN) == 1 ;
  }
  else
    ok = EVP_DigestVerifyInit(md, 0, EVP_sha256(), 0, key) == 1
      && EVP_DigestVerify(md, sig, siglen, (unsigned char const *)in, inlen) == 1 ;
  EVP_MD_CTX_free(md) ;
  return ok ;
}

int dkim_verify_head (EVP_PKEY *key, char const *field, size_t len, char const *head, size_t headlen)
{
  stralloc in = STRALLOC_ZERO, f = STRALLOC_ZERO ;
  char const *colon = memchr(field, ':', len), *v ;
  char const *kind = dkim_key_kind(key) ;
  char hlist[DKIM_HEADER_MAX < 4096 ? DKIM_HEADER_MAX : 4096] ;
  char sig64[SIG64_MAX] ;
  unsigned char sig[SIG_MAX + 3] ;
  size_t vlen, hl, n64, tl ;
  ssize_t siglen ;
  int ed, simple = 1, r = -1 ;
  if (!colon || !kind) return -1 ;
  colon++ ;
  tl = len - (colon - field) ;
  if (dkim_tag(colon, tl, "a", &v, &vlen) != 1) return -1 ;
  if (vlen == 10 && !memcmp(v, "rsa-sha256", 10)) ed = 0 ;
  else if (vlen == 14 && !memcmp(v, "ed25519-sha256", 14)) ed = 1 ;
  else return -1 ;
  if (ed != (kind[0] == 'e')) return 0 ;
  if (dkim_tag(colon, tl, "c", &v, &vlen) == 1)
  {
    size_t k = 0 ;
    while (k < vlen && v[k] != '/') k++ ;
    if (k == 7 && !memcmp(v, "relaxed", 7)) simple = 0 ;
    else if (k != 6 || memcmp(v, "simple", 6)) return -1 ;
  }
  if (dkim_tag(colon, tl, "h", &v, &vlen) != 1) return -1 ;
  hl = dkim_squeeze(hlist, sizeof hlist, v, vlen) ;
  if (!hl || hl > sizeof hlist) return -1 ;
  if (dkim_tag(colon, tl, "b", &v, &vlen) != 1) return -1 ;
  n64 = dkim_squeeze(sig64, sizeof sig64, v, vlen) ;
  if (!n64 || n64 > sizeof sig64) return 0 ;
  siglen = base64_decode((char *)sig, sig64, n64) ;
  if (siglen <= 0) return 0 ;
  {
    /* b='s value and the white space around it go: from "=" to ";" */
    char const *eq = v, *end = v + vlen ;
    while (eq > colon && *eq != '=') eq-- ;
    while (end < field + len && *end != ';') end++ ;
    if (!stralloc_catb(&f, field, eq + 1 - field) || !stralloc_catb(&f, end, field + len - end)) goto end ;
  }
  if (!dkim_head_input(&in, head, headlen, hlist, hl, simple)
   || !(simple ? dkim_simple_header(&in, f.s, f.len, 0) : dkim_relax_header(&in, f.s, f.len, 0))) goto end ;
  r = check(key, ed, in.s, in.len, sig, siglen) ;
 end:
  stralloc_free(&in) ;
  stralloc_free(&f) ;
  return r ;
}
