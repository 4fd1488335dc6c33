/* RFC 6376 3.6.1: p= is the base64 of the DER SubjectPublicKeyInfo for
   RSA; RFC 8463 4.2: the 32 bytes of the raw public key for Ed25519 */

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <skalibs/stralloc.h>
#include "dkim.h"

/* the DER of an RSA public key of 16384 bits is under 2100 bytes */
#define PUB_MAX 4096

int dkim_dns_value (stralloc *sa, EVP_PKEY *key)
{
  unsigned char pub[PUB_MAX], *p = pub ;
  char const *kind = dkim_key_kind(key) ;
  size_t len = sizeof pub ;
  if (!kind) return (errno = EINVAL, 0) ;
  if (kind[0] == 'e')
  {
    if (!EVP_PKEY_get_raw_public_key(key, pub, &len)) return (errno = EIO, 0) ;
  }
  else
  {
    int n = i2d_PUBKEY(key, 0) ;
    if (n <= 0 || n > PUB_MAX || i2d_PUBKEY(key, &p) != n) return (errno = EIO, 0) ;
    len = n ;
  }
  if (!stralloc_cats(sa, "v=DKIM1; k=") || !stralloc_cats(sa, kind) || !stralloc_cats(sa, "; p=")
   || !stralloc_readyplus(sa, (len + 2) / 3 * 4 + 1)) return 0 ;
  sa->len += EVP_EncodeBlock((unsigned char *)sa->s + sa->len, pub, len) ;
  return 1 ;
}
