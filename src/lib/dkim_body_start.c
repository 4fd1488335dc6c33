#include <openssl/evp.h>
#include "dkim.h"

int dkim_body_start (dkim_body *b, int simple, uint64_t limit)
{
  b->blanks = 0 ;
  b->left = limit ;
  b->simple = simple ;
  b->any = 0 ;
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
