#include <openssl/evp.h>
#include "dkim.h"

/* an empty body (or only empty lines) hashes as nothing at all in
   relaxed canonicalization (RFC 6376 3.4.4, errata 3133), as one CR LF
   in simple (3.4.3) */
int dkim_body_final (dkim_body *b, unsigned char *h)
{
  unsigned int n = 0 ;
  int ok = 1 ;
  if (b->simple && !b->any && b->left >= 2) ok = EVP_DigestUpdate(b->md, "\r\n", 2) ;
  ok = ok && EVP_DigestFinal_ex(b->md, h, &n) && n == DKIM_HASH_LEN ;
  EVP_MD_CTX_free(b->md) ;
  b->md = 0 ;
  b->blanks = 0 ;
  return ok ;
}
