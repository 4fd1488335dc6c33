#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "proxyfrom.h"

/* a line: a CIDR, a comment; the file at most this many bytes */
#define LINE_MAX_ 128
#define FILE_MAX (PROXYFROM_MAX * LINE_MAX_)

/* an IPv4 or IPv6 address, then optionally "/" and its prefix length, into *net (IPv4 mapped into IPv6) */
static int parse (proxyfrom_net *net, char const *s, size_t len)
{
  char tmp[64] ;
  char const *slash = memchr(s, '/', len) ;
  size_t alen = slash ? (size_t)(slash - s) : len ;
  unsigned int bits ;
  int v6 ;
  if (!alen || alen >= sizeof tmp) return 0 ;
  memcpy(tmp, s, alen) ; tmp[alen] = 0 ;
  v6 = !!memchr(tmp, ':', alen) ;
  memset(net->addr, 0, sizeof net->addr) ;
  if (v6) { if (inet_pton(AF_INET6, tmp, net->addr) != 1) return 0 ; }
  else
  {
    if (inet_pton(AF_INET, tmp, net->addr + 12) != 1) return 0 ;
    net->addr[10] = net->addr[11] = 0xff ;
  }
  bits = v6 ? 128 : 32 ;
  if (slash)
  {
    size_t blen = len - alen - 1 ;
    unsigned int b ;
    if (!blen || uint_scan(slash + 1, &b) != blen || b > bits) return 0 ;
    bits = b ;
  }
  net->bits = v6 ? bits : 96 + bits ;
  return 1 ;
}

int proxyfrom_load (proxyfrom *t, char const *file, unsigned int *line)
{
  static char buf[FILE_MAX + 1] ;
  size_t i = 0, total ;
  ssize_t r = openreadnclose(file, buf, sizeof buf) ;
  t->n = 0 ;
  *line = 0 ;
  if (r < 0) return errno == ENOENT ;
  if ((size_t)r > FILE_MAX) return (errno = E2BIG, 0) ;
  total = (size_t)r ;
  while (i < total)
  {
    char const *s = buf + i ;
    char const *nl = memchr(s, '\n', total - i) ;
    size_t len = nl ? (size_t)(nl - s) : total - i ;
    size_t a = 0, b = len ;
    i += len + 1 ;
    ++*line ;
    while (a < b && (s[a] == ' ' || s[a] == '\t')) a++ ;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) b-- ;
    if (a == b || s[a] == '#') continue ;
    if (t->n == PROXYFROM_MAX) return (errno = E2BIG, 0) ;
    if (!parse(&t->net[t->n], s + a, b - a)) return (errno = EINVAL, 0) ;
    t->n++ ;
  }
  *line = 0 ;
  return 1 ;
}
