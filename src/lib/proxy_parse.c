/* Strict: what a balancer sends, nothing looser. A v1 address is
   parsed with inet_pton and written back with inet_ntop, so that what
   reaches the environment and the logs is one canonical form. */

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "proxy.h"

static char const v2sig[12] = "\r\n\r\n\0\r\nQUIT\n" ;

/* a decimal port, 0 to 65535, no leading zero */
static int port (unsigned int *u, char const *s, size_t n)
{
  unsigned int v = 0 ;
  if (!n || n > 5 || (n > 1 && s[0] == '0')) return 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0 ;
    v = v * 10 + (unsigned int)(s[i] - '0') ;
  }
  if (v > 65535) return 0 ;
  *u = v ;
  return 1 ;
}

/* an address of the family into its canonical text */
static int addr (char *d, char const *s, size_t n, int v6)
{
  char tmp[PROXY_IP_MAX] ;
  unsigned char bin[16] ;
  /* a NUL would end the text inet_pton reads before the field does */
  if (!n || n >= sizeof tmp || memchr(s, 0, n)) return 0 ;
  memcpy(tmp, s, n) ; tmp[n] = 0 ;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, bin) != 1) return 0 ;
  return !!inet_ntop(v6 ? AF_INET6 : AF_INET, bin, d, PROXY_IP_MAX) ;
}

/* "PROXY TCP4 src dst sport dport\r\n", or "PROXY UNKNOWN ...\r\n" */
static ssize_t v1 (proxy_info *p, char const *s, size_t n)
{
  char const *f[6] ;
  size_t fl[6], k = 0, i = 6, start = 6 ;
  char const *lf = memchr(s, '\n', n < PROXY_V1_MAX ? n : PROXY_V1_MAX) ;
  size_t len ;
  if (!lf) return n < PROXY_V1_MAX ? 0 : -1 ;
  len = (size_t)(lf - s) + 1 ;
  if (len < 8 || s[len - 2] != '\r') return -1 ;
  if (len >= 15 && !memcmp(s + 6, "UNKNOWN", 7) && (s[13] == '\r' || s[13] == ' '))
  {
    p->local = 1 ;
    return (ssize_t)len ;
  }
  /* five fields after "PROXY ", one space between each */
  for (; i <= len - 2 ; i++)
  {
    if (i < len - 2 && s[i] != ' ') continue ;
    if (k == 5 || i == start) return -1 ;
    f[k] = s + start ; fl[k] = i - start ; k++ ;
    start = i + 1 ;
  }
  if (k != 5) return -1 ;
  if (fl[0] == 4 && !memcmp(f[0], "TCP4", 4)) p->v6 = 0 ;
  else if (fl[0] == 4 && !memcmp(f[0], "TCP6", 4)) p->v6 = 1 ;
  else return -1 ;
  if (!addr(p->src, f[1], fl[1], p->v6) || !addr(p->dst, f[2], fl[2], p->v6)
   || !port(&p->sport, f[3], fl[3]) || !port(&p->dport, f[4], fl[4])) return -1 ;
  return (ssize_t)len ;
}

static ssize_t v2 (proxy_info *p, unsigned char const *s, size_t n)
{
  size_t len ;
  if (n < 16) return 0 ;
  len = 16 + ((size_t)s[14] << 8 | s[15]) ;
  if (s[12] >> 4 != 2 || len > PROXY_V2_MAX) return -1 ;
  if (n < len) return 0 ;
  switch (s[12] & 15)
  {
    case 0 : p->local = 1 ; return (ssize_t)len ;   /* LOCAL */
    case 1 : break ;                                /* PROXY */
    default : return -1 ;
  }
  switch (s[13])
  {
    case 0x00 : p->local = 1 ; return (ssize_t)len ;   /* UNSPEC */
    case 0x11 :                                        /* TCP over IPv4 */
      if (len < 16 + 12) return -1 ;
      p->v6 = 0 ;
      if (!inet_ntop(AF_INET, s + 16, p->src, sizeof p->src) || !inet_ntop(AF_INET, s + 20, p->dst, sizeof p->dst)) return -1 ;
      p->sport = (unsigned int)s[24] << 8 | s[25] ;
      p->dport = (unsigned int)s[26] << 8 | s[27] ;
      return (ssize_t)len ;
    case 0x21 :                                        /* TCP over IPv6 */
      if (len < 16 + 36) return -1 ;
      p->v6 = 1 ;
      if (!inet_ntop(AF_INET6, s + 16, p->src, sizeof p->src) || !inet_ntop(AF_INET6, s + 32, p->dst, sizeof p->dst)) return -1 ;
      p->sport = (unsigned int)s[48] << 8 | s[49] ;
      p->dport = (unsigned int)s[50] << 8 | s[51] ;
      return (ssize_t)len ;
    /* UDP, unix sockets: no SMTP client */
    default : return -1 ;
  }
}

ssize_t proxy_parse (proxy_info *p, char const *s, size_t n)
{
  memset(p, 0, sizeof *p) ;
  if (!n) return 0 ;
  if (s[0] == '\r')
  {
    size_t k = n < sizeof v2sig ? n : sizeof v2sig ;
    if (memcmp(s, v2sig, k)) return -1 ;
    return v2(p, (unsigned char const *)s, n) ;
  }
  {
    size_t k = n < 6 ? n : 6 ;
    if (memcmp(s, "PROXY ", k)) return -1 ;
    if (n < 6) return 0 ;
  }
  return v1(p, s, n) ;
}
