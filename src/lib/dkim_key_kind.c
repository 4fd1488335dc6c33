#include <openssl/evp.h>
#include "dkim.h"

char const *dkim_key_kind (EVP_PKEY *key)
{
  switch (EVP_PKEY_get_base_id(key))
  {
    case EVP_PKEY_RSA : return "rsa" ;
    case EVP_PKEY_ED25519 : return "ed25519" ;
    default : return 0 ;
  }
}
