/* c-ares' channel with the servers of control/dnsservers, for remote
   (MX and addresses) and smtpd (SPF) alike */

#include <errno.h>
#include <string.h>
#include <ares.h>
#include <skalibs/djbunix.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "dns.h"

/* DNS_SERVERS_FILE made into c-ares' list "ip:port,[ip6]:port" (empty:
   no file, or no server in it): 1, 0 (errno), or -1 (a bad line) */
static int servers_csv (stralloc *csv)
{
  stralloc file = STRALLOC_ZERO ;
  size_t pos = 0 ;
  unsigned int n = 0 ;
  if (!openslurpclose(&file, DNS_SERVERS_FILE)) return errno == ENOENT ;
  /* every line ends with '\n', which the scan below makes a NUL */
  if (!stralloc_catb(&file, "\n", 1)) goto err ;
  while (pos < file.len && n < DNS_SERVERS_MAX)
  {
    char *s = file.s + pos ;
    size_t len = 0, i ;
    ip46 ip ;
    uint16_t port = 53 ;
    char fmt[IP46_FMT + UINT16_FMT + 4] ;
    size_t m = 0 ;
    while (s[len] != '\n') len++ ;
    pos += len + 1 ;
    while (len && (s[len-1] == ' ' || s[len-1] == '\t' || s[len-1] == '\r')) len-- ;
    while (len && (*s == ' ' || *s == '\t')) { s++ ; len-- ; }
    if (!len || *s == '#') continue ;
    s[len] = 0 ;
    if (*s == '[')
    {
      i = ip46_scan(s + 1, &ip) ;
      if (!i || s[1 + i] != ']') goto bad ;
      i += 2 ;
    }
    else i = ip46_scan(s, &ip) ;
    if (!i) goto bad ;
    if (s[i] == ':' && ip46_is6(&ip) && s[0] != '[') goto bad ;  /* ambiguous: write [ip6]:port */
    if (s[i] == ':')
    {
      size_t k = uint160_scan(s + i + 1, &port) ;
      if (!k || s[i + 1 + k] || !port) goto bad ;
    }
    else if (s[i]) goto bad ;
    if (ip46_is6(&ip)) fmt[m++] = '[' ;
    m += ip46_fmt(fmt + m, &ip) ;
    if (ip46_is6(&ip)) fmt[m++] = ']' ;
    fmt[m++] = ':' ;
    m += uint16_fmt(fmt + m, port) ;
    if ((n++ && !stralloc_catb(csv, ",", 1)) || !stralloc_catb(csv, fmt, m)) goto err ;
  }
  stralloc_free(&file) ;
  return !csv->len || stralloc_0(csv) ;
 bad:
  stralloc_free(&file) ;
  return -1 ;
 err:
  stralloc_free(&file) ;
  return 0 ;
}

int dns_channel_init (ares_channel *channel, unsigned int try_ms, unsigned int tries)
{
  struct ares_options o ;
  stralloc csv = STRALLOC_ZERO ;
  int r = servers_csv(&csv) ;
  if (r <= 0) { stralloc_free(&csv) ; return r ; }
  memset(&o, 0, sizeof o) ;
  o.timeout = (int)try_ms ;
  o.tries = (int)tries ;
  o.flags = ARES_FLAG_NOSEARCH ;
  r = ares_library_init(ARES_LIB_INIT_ALL) ;
  if (r == ARES_SUCCESS) r = ares_init_options(channel, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS) ;
  if (r == ARES_SUCCESS && csv.len)
  {
    r = ares_set_servers_ports_csv(*channel, csv.s) ;
    if (r != ARES_SUCCESS) ares_destroy(*channel) ;
  }
  stralloc_free(&csv) ;
  if (r == ARES_SUCCESS) return 1 ;
  if (r == ARES_ENOMEM) return (errno = ENOMEM, 0) ;
  return -2 ;
}
