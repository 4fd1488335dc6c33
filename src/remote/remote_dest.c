/* Where a domain's mail goes: control/routes, else MX (RFC 5321 5.1),
   else the domain's own addresses. */

#include <string.h>
#include <skalibs/ip46.h>
#include <skalibs/random.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "route.h"
#include "remote.h"

#define ROUTES ROUTE_STATIC
/* addresses kept per host name */
#define ADDRS_PER_NAME 8

/* "1.2.3.4", "::1" or "IPv6:::1" (RFC 5321 4.1.3), whole */
static int literal (char const *s, size_t len, ip46 *ip)
{
  char buf[REMOTE_NAME_MAX + 1] ;
  size_t k ;
  if (len >= 5 && !strncasecmp(s, "IPv6:", 5)) { s += 5 ; len -= 5 ; }
  if (!len || len > REMOTE_NAME_MAX) return 0 ;
  memcpy(buf, s, len) ; buf[len] = 0 ;
  k = ip46_scan(buf, ip) ;
  return k && k == len ;
}

static void set_host (remote_dest *d, char const *s, size_t len)
{
  if (len > REMOTE_NAME_MAX) len = REMOTE_NAME_MAX ;
  memcpy(d->host, s, len) ;
  d->host[len] = 0 ;
}

/* equal preferences in random order (RFC 5321 5.1): insertion sort on a
   random key under the preference */
static void mx_sort (dns_mx *mx, unsigned int n)
{
  uint32_t key[REMOTE_MX_MAX] ;
  for (unsigned int i = 0 ; i < n ; i++) key[i] = random_uint32(UINT32_MAX) ;
  for (unsigned int i = 1 ; i < n ; i++)
    for (unsigned int j = i ; j && (mx[j-1].pref > mx[j].pref || (mx[j-1].pref == mx[j].pref && key[j-1] > key[j])) ; j--)
    {
      dns_mx t = mx[j] ; mx[j] = mx[j-1] ; mx[j-1] = t ;
      uint32_t u = key[j] ; key[j] = key[j-1] ; key[j-1] = u ;
    }
}

unsigned int remote_dest_find (remote_ctx *c, remote_dest *d, unsigned int max)
{
  stralloc v = STRALLOC_ZERO, err = STRALLOC_ZERO ;
  char target[REMOTE_NAME_MAX + 1] ;
  char const *names[REMOTE_MX_MAX] ;
  dns_mx mx[REMOTE_MX_MAX] ;
  ip46 ip[REMOTE_MX_MAX * ADDRS_PER_NAME] ;
  unsigned int nip[REMOTE_MX_MAX] ;
  enum dns_status st[REMOTE_MX_MAX] ;
  unsigned int nmx = 0, nnames = 0, k = 0 ;
  uint16_t port = 25 ;
  int usemx = 1, routed = 0 ;
  size_t tlen = strlen(c->domain) ;
  tain deadline ;
  int r = route_static(c->domain, &v) ;

  if (r < 0) { remote_result_all(c, 'Z', "4.3.0 unable to read " ROUTES, "", "") ; return 0 ; }
  if (tlen > REMOTE_NAME_MAX) { remote_result_all(c, 'D', "5.1.2 domain name too long", "", "") ; return 0 ; }
  memcpy(target, c->domain, tlen + 1) ;
  if (r && v.len)
  {
    /* host, host:port, [host] or [host]:port */
    char const *s = v.s ;
    size_t len = v.len, h = len, rest ;
    routed = 1 ;
    if (s[0] == '[')
    {
      h = 1 ;
      while (h < len && s[h] != ']') h++ ;
      if (h >= len) goto badroute ;
      usemx = 0 ;
      s++ ; len-- ; h-- ;
      rest = h + 1 ;
    }
    else
    {
      for (h = 0 ; h < len && s[h] != ':' ; h++) ;
      rest = h ;
    }
    if (!h || h > REMOTE_NAME_MAX) goto badroute ;
    if (rest < len)
    {
      size_t n ;
      char num[8] ;
      if (s[rest] != ':' || len - rest - 1 == 0 || len - rest - 1 >= sizeof num) goto badroute ;
      memcpy(num, s + rest + 1, len - rest - 1) ; num[len - rest - 1] = 0 ;
      n = uint160_scan(num, &port) ;
      if (n != len - rest - 1 || !port) goto badroute ;
    }
    memcpy(target, s, h) ; target[h] = 0 ; tlen = h ;
  }
  else if (target[0] == '[' && target[tlen-1] == ']') usemx = 0 ;

  /* a literal: no DNS at all */
  {
    char const *lit = target ;
    size_t llen = tlen ;
    if (lit[0] == '[' && lit[llen-1] == ']') { lit++ ; llen -= 2 ; }
    if (!usemx || lit != target)
      if (literal(lit, llen, &d[0].ip))
      {
        /* no name: results show "[ip]" alone (see set_peer) */
        d[0].host[0] = '[' ; d[0].host[1] = 0 ;
        d[0].port = port ;
        stralloc_free(&v) ;
        return 1 ;
      }
    if (lit != target)
    {
      remote_result_all(c, routed ? 'Z' : 'D', routed ? "4.3.5 bad address literal in " ROUTES ": " : "5.1.2 bad address literal: ", target, "") ;
      stralloc_free(&v) ;
      return 0 ;
    }
  }

  tain_addsec_g(&deadline, c->timeoutdns) ;
  if (!remote_dns_init(&deadline, &err)) goto temp ;
  if (usemx)
  {
    switch (remote_dns_mx_lookup(target, mx, REMOTE_MX_MAX, &nmx, &err))
    {
      case DNS_OK :
      {
        unsigned int j = 0 ;
        /* RFC 7505: a single MX "." says the domain takes no mail */
        for (unsigned int i = 0 ; i < nmx ; i++)
          if (mx[i].host[0] && strcmp(mx[i].host, ".")) mx[j++] = mx[i] ;
        if (!j)
        {
          remote_result_all(c, 'D', "5.1.10 ", target, " accepts no mail (null MX, RFC 7505)") ;
          goto done ;
        }
        nmx = j ;
        mx_sort(mx, nmx) ;
        for (unsigned int i = 0 ; i < nmx ; i++) names[nnames++] = mx[i].host ;
        break ;
      }
      case DNS_NODATA : names[nnames++] = target ; break ;
      case DNS_NXDOMAIN :
        if (routed)
        {
          err.len = 0 ;
          if (stralloc_cats(&err, "4.4.3 no such host in " ROUTES ": ") && stralloc_cats(&err, target) && stralloc_0(&err))
            remote_result_site(c, err.s) ;
          else remote_result_all(c, 'Z', "4.3.0 out of memory", "", "") ;
        }
        else remote_result_all(c, 'D', "5.1.2 no such domain: ", target, "") ;
        goto done ;
      default : goto temp ;
    }
  }
  else names[nnames++] = target ;

  remote_dns_addr_lookup(names, nnames, ip, ADDRS_PER_NAME, nip, st, &err) ;
  for (unsigned int i = 0 ; i < nnames && k < max ; i++)
    for (unsigned int j = 0 ; j < nip[i] && k < max ; j++, k++)
    {
      set_host(d + k, names[i], strlen(names[i])) ;
      d[k].ip = ip[i * ADDRS_PER_NAME + j] ;
      d[k].port = port ;
    }
  if (k) goto done ;
  if (nnames == 1 && st[0] == DNS_NXDOMAIN && !routed && !nmx)
  {
    remote_result_all(c, 'D', "5.1.2 no such domain: ", target, "") ;
    goto done ;
  }
  if (!err.len && !(stralloc_cats(&err, "4.4.3 no address for ") && stralloc_cats(&err, names[0]))) goto oom ;
 temp:
  if (!stralloc_0(&err)) goto oom ;
  remote_result_site(c, err.s) ;
  goto done ;
 badroute:
  remote_result_all(c, 'Z', "4.3.5 bad entry in " ROUTES " for ", c->domain, "") ;
  goto done ;
 oom:
  remote_result_all(c, 'Z', "4.3.0 out of memory", "", "") ;
 done:
  stralloc_free(&v) ;
  stralloc_free(&err) ;
  return k ;
}
