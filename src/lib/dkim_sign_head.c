/* RFC 6376 3.7 and 5: the header hash input is the signed fields, then
   this DKIM-Signature field with b= empty, relaxed, without its final
   CR LF. rsa-sha256 signs it with RSASSA-PKCS1-v1_5 over SHA-256;
   ed25519-sha256 (RFC 8463 3) signs, with PureEd25519, the SHA-256
   digest of it, not the input itself. */

#include <errno.h>
#include <string.h>
#include <openssl/evp.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "dkim.h"

/* a signature: RSA of 8192 bits is 1024 bytes */
#define SIG_MAX 1024

static int tag (stralloc *sa, size_t *col, char const *t, char const *v, size_t vlen)
{
  stralloc x = STRALLOC_ZERO ;
  int ok = stralloc_cats(&x, t) && stralloc_catb(&x, v, vlen) && stralloc_catb(&x, ";", 1)
    && dkim_fold(sa, col, x.s, x.len, DKIM_FOLD_TAG) ;
  stralloc_free(&x) ;
  return ok ;
}

/* the whole field but b='s value, into sa */
static int field (stralloc *sa, dkim_sign const *d, char const *alg, char const *h, size_t hlen, unsigned char const *bh)
{
  char bh64[DKIM_HASH_LEN * 2] ;
  char t[UINT64_FMT] ;
  size_t col = 15, i = 0 ;
  int n64 = EVP_EncodeBlock((unsigned char *)bh64, bh, DKIM_HASH_LEN) ;
  if (!stralloc_cats(sa, "DKIM-Signature:")
   || !tag(sa, &col, "v=", "1", 1) || !tag(sa, &col, "a=", alg, strlen(alg))
   || !tag(sa, &col, "c=", "relaxed/relaxed", 15)
   || !tag(sa, &col, "d=", d->domain, strlen(d->domain)) || !tag(sa, &col, "s=", d->selector, strlen(d->selector))
   || !tag(sa, &col, "t=", t, uint64_fmt(t, d->t)) || !tag(sa, &col, "bh=", bh64, n64))
    return 0 ;
  /* h=: each name with its colon (the last with a semicolon), folded
     only after a colon */
  while (i < hlen)
  {
    char name[64] ;
    size_t j = i, n = 0 ;
    while (j < hlen && h[j] != ':') j++ ;
    if (!i) { memcpy(name, "h=", 2) ; n = 2 ; }
    if (j - i > sizeof name - 4) return (errno = EINVAL, 0) ;
    memcpy(name + n, h + i, j - i) ; n += j - i ;
    name[n++] = j < hlen ? ':' : ';' ;
    if (!dkim_fold(sa, &col, name, n, i ? DKIM_FOLD_GLUE : DKIM_FOLD_TAG)) return 0 ;
    i = j + 1 ;
  }
  return dkim_fold(sa, &col, "b=", 2, DKIM_FOLD_TAG) ;
}

static int sign (EVP_PKEY *key, int ed, char const *in, size_t inlen, unsigned char *sig, size_t *siglen)
{
  unsigned char digest[DKIM_HASH_LEN] ;
  EVP_MD_CTX *md = EVP_MD_CTX_new() ;
  int ok ;
  if (!md) return 0 ;
  if (ed)
  {
    unsigned int n = 0 ;
    ok = EVP_Digest(in, inlen, digest, &n, EVP_sha256(), 0) && n == DKIM_HASH_LEN
      && EVP_DigestSignInit(md, 0, 0, 0, key) == 1
      && EVP_DigestSign(md, sig, siglen, digest, DKIM_HASH_LEN) == 1 ;
  }
  else
    ok = EVP_DigestSignInit(md, 0, EVP_sha256(), 0, key) == 1
      && EVP_DigestSign(md, 0, siglen, (unsigned char const *)in, inlen) == 1 && *siglen <= SIG_MAX
      && EVP_DigestSign(md, sig, siglen, (unsigned char const *)in, inlen) == 1 ;
  EVP_MD_CTX_free(md) ;
  return ok ;
}

int dkim_sign_head (stralloc *sa, dkim_sign const *d, char const *head, size_t headlen, unsigned char const *bh)
{
  stralloc h = STRALLOC_ZERO, f = STRALLOC_ZERO, in = STRALLOC_ZERO ;
  unsigned char sig[SIG_MAX] ;
  char sig64[SIG_MAX * 2] ;
  size_t siglen = sizeof sig, col ;
  char const *kind = dkim_key_kind(d->key) ;
  int ed, ok = 0, n64 ;
  if (!kind) return (errno = EINVAL, 0) ;
  ed = kind[0] == 'e' ;
  if (!dkim_pick(&h, head, headlen)
   || !field(&f, d, ed ? "ed25519-sha256" : "rsa-sha256", h.s, h.len, bh)
   || !dkim_head_input(&in, head, headlen, h.s, h.len, 0)
   || !dkim_relax_header(&in, f.s, f.len, 0)) { errno = ENOMEM ; goto end ; }
  if (!sign(d->key, ed, in.s, in.len, sig, &siglen)) { errno = EIO ; goto end ; }
  n64 = EVP_EncodeBlock((unsigned char *)sig64, sig, siglen) ;
  /* the column where b= ended: a tab counts one, as dkim_fold counts it */
  col = f.len ;
  for (size_t i = f.len ; i-- ;)
    if (f.s[i] == '\n') { col = f.len - i - 1 ; break ; }
  ok = stralloc_catb(sa, f.s, f.len) && dkim_fold(sa, &col, sig64, n64, DKIM_FOLD_ANY) && stralloc_catb(sa, "\r\n", 2) ;
  if (!ok) errno = ENOMEM ;
 end:
  stralloc_free(&h) ; stralloc_free(&f) ; stralloc_free(&in) ;
  return ok ;
}
