/* base64_test text: decodes text with base64_decode() and writes the
   bytes to stdout. Exits 0, 1 if text is not base64, 111 on error. */

#include <string.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/strerr.h>
#include "base64.h"

#define USAGE "base64_test text"

int main (int argc, char const *const *argv)
{
  size_t len ;
  ssize_t r ;
  PROG = "base64_test" ;
  if (argc != 2) strerr_dieusage(100, USAGE) ;
  len = strlen(argv[1]) ;
  {
    char out[len / 4 * 3 + 1] ;
    r = base64_decode(out, argv[1], len) ;
    if (r < 0) return 1 ;
    if (allwrite(1, out, (size_t)r) < (size_t)r) strerr_diefu1sys(111, "write to stdout") ;
  }
  return 0 ;
}
