/* RFC 6376 3.6.1 (and RFC 8463 4.2 for k=ed25519): v= first if there,
   k= rsa by default, p= base64 with folding white space allowed */

#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "base64.h"
#include "dkim.h"

/* p= of an RSA key of 16384 bits is under 2900 base64 characters */
#define P_MAX 4096

int dkim_key_parse (EVP_PKEY **key, char const *s, size_t len)
{
  char const *v ;
  size_t vlen, n ;
  char b64[P_MAX], der[P_MAX / 4 * 3] ;
  int ed = 0, r ;
  ssize_t dlen ;
  r = dkim_tag(s, len, "v", &v, &vlen) ;
  if (r < 0) return 0 ;
  if (r)
  {
    size_t i = 0 ;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++ ;
    /* 3.6.1: v= must be the first tag: "v", blanks, "=" */
    if (vlen != 5 || memcmp(v, "DKIM1", 5) || i == len || s[i++] != 'v') return 0 ;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++ ;
    if (i == len || s[i] != '=') return 0 ;
  }
  r = dkim_tag(s, len, "k", &v, &vlen) ;
  if (r < 0) return 0 ;
  if (r)
  {
    if (vlen == 7 && !memcmp(v, "ed25519", 7)) ed = 1 ;
    else if (vlen != 3 || memcmp(v, "rsa", 3)) return 0 ;
  }
  if (dkim_tag(s, len, "p", &v, &vlen) != 1) return 0 ;
  n = dkim_squeeze(b64, sizeof b64, v, vlen) ;
  if (!n || n > sizeof b64) return 0 ;  /* revoked, or too long */
  dlen = base64_decode(der, b64, n) ;
  if (dlen <= 0) return 0 ;
  if (ed)
  {
    if (dlen != 32) return 0 ;
    *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, 0, (unsigned char *)der, 32) ;
    return !!*key ;
  }
  {
    unsigned char const *p = (unsigned char *)der ;
    *key = d2i_PUBKEY(0, &p, dlen) ;
    if (!*key) return 0 ;
    /* RFC 8301 3.2: a shorter RSA key signs nothing valid */
    if (EVP_PKEY_get_base_id(*key) != EVP_PKEY_RSA || p != (unsigned char *)der + dlen
     || EVP_PKEY_get_bits(*key) < DKIM_RSA_BITS_MIN) { EVP_PKEY_free(*key) ; *key = 0 ; return 0 ; }
  }
  return 1 ;
}
