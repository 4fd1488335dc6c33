/* dkim-dns: prints the DNS TXT record that publishes the public half of
   a DKIM key (RSA or Ed25519, PEM), for selector. Run by the
   administrator as the account that may read the key; reads keyfile,
   writes one line on stdout. See dkim-dns(8). */

#include <errno.h>
#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "dkim.h"

#define USAGE "dkim-dns selector keyfile"
/* a character-string of a TXT record holds at most 255 bytes (RFC 1035 3.3) */
#define TXT_STRING_MAX 255

int main (int argc, char const *const *argv)
{
  stralloc v = STRALLOC_ZERO, out = STRALLOC_ZERO ;
  struct evp_pkey_st *key ;
  size_t slen ;
  PROG = "dkim-dns" ;
  if (argc != 3 || !argv[1][0] || !argv[2][0]) strerr_dieusage(100, USAGE) ;
  slen = strlen(argv[1]) ;
  if (slen > DKIM_SELECTOR_MAX || strspn(argv[1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != slen)
    strerr_dief1x(100, "bad selector: letters, digits, hyphens and dots only, at most 63") ;
  key = dkim_key_load(argv[2]) ;
  if (!key)
  {
    if (errno == EPERM) strerr_dief3x(100, "key ", argv[2], " is readable by group or others: chmod 400 it") ;
    if (errno == EINVAL) strerr_dief3x(100, "key ", argv[2], " is not an Ed25519 or RSA (1024 bits or more) private key in PEM") ;
    strerr_diefu2sys(111, "read ", argv[2]) ;
  }
  if (!dkim_dns_value(&v, key)) strerr_diefu1sys(111, "encode the public key") ;
  if (!stralloc_cats(&out, argv[1]) || !stralloc_cats(&out, "._domainkey IN TXT")) strerr_diefu1sys(111, "allocate") ;
  for (size_t i = 0 ; i < v.len ; i += TXT_STRING_MAX)
  {
    size_t n = v.len - i < TXT_STRING_MAX ? v.len - i : TXT_STRING_MAX ;
    if (!stralloc_cats(&out, " \"") || !stralloc_catb(&out, v.s + i, n) || !stralloc_cats(&out, "\""))
      strerr_diefu1sys(111, "allocate") ;
  }
  if (!stralloc_cats(&out, "\n")) strerr_diefu1sys(111, "allocate") ;
  if (buffer_putflush(buffer_1, out.s, out.len) < 0) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
