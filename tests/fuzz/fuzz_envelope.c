/* The envelope (src/lib/env_*): env_check_feed fed in pieces agrees with
   env_parse of the whole; a parsed envelope's fields are what its bytes
   hold; env_put of those fields gives the same bytes back. */
#include <string.h>
#include <skalibs/stralloc.h>
#include "envelope.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char const *s = (char const *)data ;
  env_check c = ENV_CHECK_ZERO ;
  env_view v ;
  enum env_error e, ec ;
  size_t used = 0, pos = 0 ;
  unsigned int step = size ? 1 + data[0] % 7 : 1, n = 0 ;
  /* pieces of 1 to 7 bytes, as a pipe may cut them */
  while (used < size && !c.done && c.error == ENV_OK)
  {
    size_t k = size - used < step ? size - used : step ;
    size_t r = env_check_feed(&c, s + used, k) ;
    FUZZ_ASSERT(r <= k) ;
    FUZZ_ASSERT(r == k || c.done || c.error != ENV_OK) ;
    used += r ;
  }
  ec = env_check_end(&c) ;
  FUZZ_ASSERT(env_strerror(ec)) ;
  e = env_parse(&v, s, size) ;
  FUZZ_ASSERT(e == ec) ;
  if (e != ENV_OK) return 0 ;
  /* accepted: what it used ends with the final NUL, bounded */
  FUZZ_ASSERT(used >= 4 && used <= ENV_BYTES_MAX && !s[used - 1] && !s[used - 2]) ;
  FUZZ_ASSERT(s[0] == 'F' && v.sender == s + 1) ;
  FUZZ_ASSERT(v.nrcpts >= 1 && v.nrcpts <= ENV_RCPT_MAX) ;
  FUZZ_ASSERT(addr_check(v.sender, strlen(v.sender)) == ADDR_OK) ;
  {
    stralloc sa = STRALLOC_ZERO ;
    char const *r ;
    FUZZ_ASSERT(env_put(&sa, 'F', v.sender, strlen(v.sender))) ;
    while ((r = env_next_rcpt(&v, &pos)))
    {
      size_t len = strlen(r) ;
      FUZZ_ASSERT(r[-1] == 'T' && r + len < s + used) ;
      FUZZ_ASSERT(addr_check(r, len) == ADDR_OK) ;
      FUZZ_ASSERT(env_put(&sa, 'T', r, len)) ;
      n++ ;
    }
    FUZZ_ASSERT(n == v.nrcpts) ;
    FUZZ_ASSERT(stralloc_0(&sa)) ;
    /* the round trip: the same bytes */
    FUZZ_ASSERT(sa.len == used && !memcmp(sa.s, s, used)) ;
    stralloc_free(&sa) ;
  }
  return 0 ;
}
