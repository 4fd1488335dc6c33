#include <openssl/evp.h>
#include "dkim.h"

int dkim_body_init (dkim_body *b)
{
  b->blanks = 0 ;
  b->md = EVP_MD_CTX_new() ;
  if (!b->md) return 0 ;
  if (!EVP_DigestInit_ex(b->md, EVP_sha256(), 0))
  {
    EVP_MD_CTX_free(b->md) ;
    b->md = 0 ;
    return 0 ;
  }
  return 1 ;
}
