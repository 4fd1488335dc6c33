/* dkim_key_parse through a small cache of the records last parsed: a
   worker checks the same senders' keys message after message, and
   OpenSSL 3's decoders cost more than the signature check itself
   (bench/dkim-verify.py). The key record's text is the cache key, so
   a key changed in the DNS is parsed anew. */

#include <string.h>
#include <openssl/evp.h>
#include <skalibs/stralloc.h>
#include "dkim.h"

#define CACHE_SLOTS 16

static struct { stralloc rec ; EVP_PKEY *key ; } cache[CACHE_SLOTS] ;
static unsigned int next ;

int dkim_key_cached (EVP_PKEY **key, char const *rec, size_t n)
{
  for (unsigned int i = 0 ; i < CACHE_SLOTS ; i++)
    if (cache[i].key && cache[i].rec.len == n && !memcmp(cache[i].rec.s, rec, n))
    {
      if (!EVP_PKEY_up_ref(cache[i].key)) return 0 ;
      *key = cache[i].key ;
      return 1 ;
    }
  if (!dkim_key_parse(key, rec, n)) return 0 ;
  {
    unsigned int i = next++ % CACHE_SLOTS ;
    if (cache[i].key) { EVP_PKEY_free(cache[i].key) ; cache[i].key = 0 ; }
    cache[i].rec.len = 0 ;
    /* no room to keep it: the key is still good for this once */
    if (stralloc_catb(&cache[i].rec, rec, n) && EVP_PKEY_up_ref(*key)) cache[i].key = *key ;
  }
  return 1 ;
}
