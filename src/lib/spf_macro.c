/* RFC 7208 7.3, 7.4: %{s} %{l} %{o} %{d} %{i} %{v} %{h} %{p} with
   digits, r and delimiters; %% %_ %-. An upper-case letter is taken as
   its lower case (URL escaping only matters in exp=, not used here). */

#include <string.h>
#include <skalibs/bytestr.h>
#include <skalibs/fmtscan.h>
#include <skalibs/stralloc.h>
#include "spf.h"

static int value (stralloc *v, char m, spf_ctx const *c, char const *d)
{
  char const *at = strrchr(c->sender, '@') ;
  switch (m)
  {
    case 's' : return stralloc_cats(v, c->sender) ;
    case 'l' : return at ? stralloc_catb(v, c->sender, at - c->sender) : stralloc_cats(v, "postmaster") ;
    case 'o' : return stralloc_cats(v, at ? at + 1 : c->sender) ;
    case 'd' : return stralloc_cats(v, d) ;
    case 'h' : return stralloc_cats(v, c->helo) ;
    case 'p' : return stralloc_cats(v, "unknown") ;
    case 'v' : return stralloc_cats(v, c->ip.is6 ? "ip6" : "in-addr") ;
    case 'i' :
      if (!c->ip.is6)
      {
        char f[IP4_FMT] ;
        return stralloc_catb(v, f, ip4_fmt(f, (char const *)c->ip.ip)) ;
      }
      for (unsigned int i = 0 ; i < 32 ; i++)
      {
        char x = fmtscan_asc((c->ip.ip[i >> 1] >> ((i & 1) ? 0 : 4)) & 15) ;
        if ((i && !stralloc_catb(v, ".", 1)) || !stralloc_catb(v, &x, 1)) return 0 ;
      }
      return 1 ;
    default : return -1 ;
  }
}

/* v split at any of delims, the rightmost digits parts (reversed
   first when r), joined with dots, appended to sa */
static int transform (stralloc *sa, char const *v, size_t vlen, unsigned int digits, int r, char const *delims)
{
  size_t starts[SPF_NAME_MAX + 1], ends[SPF_NAME_MAX + 1] ;
  unsigned int n = 0, first ;
  size_t i = 0 ;
  for (;;)
  {
    size_t j = i ;
    while (j < vlen && !strchr(delims, v[j])) j++ ;
    if (n > SPF_NAME_MAX) return 0 ;
    starts[n] = i ; ends[n++] = j ;
    if (j >= vlen) break ;
    i = j + 1 ;
  }
  if (r)
    for (unsigned int a = 0, b = n - 1 ; a < b ; a++, b--)
    {
      size_t t = starts[a] ; starts[a] = starts[b] ; starts[b] = t ;
      t = ends[a] ; ends[a] = ends[b] ; ends[b] = t ;
    }
  first = digits && digits < n ? n - digits : 0 ;
  for (unsigned int k = first ; k < n ; k++)
    if ((k > first && !stralloc_catb(sa, ".", 1)) || !stralloc_catb(sa, v + starts[k], ends[k] - starts[k])) return 0 ;
  return 1 ;
}

int spf_macro (stralloc *sa, char const *s, size_t len, spf_ctx const *c, char const *d)
{
  stralloc v = STRALLOC_ZERO ;
  size_t i = 0, base = sa->len ;
  int ok = 1 ;
  while (ok && i < len)
  {
    if (s[i] != '%') { ok = stralloc_catb(sa, s + i++, 1) ; continue ; }
    if (++i >= len) { ok = 0 ; break ; }
    if (s[i] == '%') { ok = stralloc_catb(sa, "%", 1) ; i++ ; continue ; }
    if (s[i] == '_') { ok = stralloc_catb(sa, " ", 1) ; i++ ; continue ; }
    if (s[i] == '-') { ok = stralloc_catb(sa, "%20", 3) ; i++ ; continue ; }
    if (s[i] != '{' || i + 2 >= len) { ok = 0 ; break ; }
    {
      char m = s[++i] | 0x20 ;
      unsigned int digits = 0 ;
      int r = 0 ;
      char delims[8] = "" ;
      size_t nd = 0 ;
      i++ ;
      while (i < len && s[i] >= '0' && s[i] <= '9' && digits <= SPF_NAME_MAX) digits = digits * 10 + (s[i++] - '0') ;
      if (i < len && (s[i] | 0x20) == 'r') { r = 1 ; i++ ; }
      while (i < len && nd < 7 && strchr(".-+,/_=", s[i]) && s[i]) delims[nd++] = s[i++] ;
      if (!nd) delims[nd++] = '.' ;
      delims[nd] = 0 ;
      if (i >= len || s[i] != '}') { ok = 0 ; break ; }
      i++ ;
      v.len = 0 ;
      if (value(&v, m, c, d) != 1) { ok = 0 ; break ; }
      ok = transform(sa, v.s, v.len, digits, r, delims) ;
    }
  }
  stralloc_free(&v) ;
  if (!ok) { sa->len = base ; return 0 ; }
  /* RFC 7208 7.3: a name too long loses labels on the left */
  {
    size_t n = sa->len - base ;
    while (n > SPF_NAME_MAX)
    {
      char *dot = memchr(sa->s + base, '.', n) ;
      if (!dot) { sa->len = base ; return 0 ; }
      n -= dot + 1 - (sa->s + base) ;
      memmove(sa->s + base, dot + 1, n) ;
    }
    sa->len = base + n ;
  }
  return stralloc_0(sa) ;
}
