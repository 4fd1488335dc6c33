/* dkim_key_test record: parses a DKIM key record with dkim_key_parse()
   and prints the key's kind ("rsa", "ed25519"), or "bad". Exits 0. */

#include <string.h>
#include <openssl/evp.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include "dkim.h"

#define USAGE "dkim_key_test record"

int main (int argc, char const *const *argv)
{
  EVP_PKEY *key = 0 ;
  PROG = "dkim_key_test" ;
  if (argc != 2) strerr_dieusage(100, USAGE) ;
  if (!dkim_key_parse(&key, argv[1], strlen(argv[1]))) buffer_puts(buffer_1, "bad") ;
  else buffer_puts(buffer_1, dkim_key_kind(key) ? dkim_key_kind(key) : "other") ;
  buffer_putflush(buffer_1, "\n", 1) ;
  if (key) EVP_PKEY_free(key) ;
  return 0 ;
}
