/* check_host() of RFC 7208 4: the record is checked whole for syntax
   first (4.6: any error is permerror), then its terms evaluated left to
   right. ptr is counted as a lookup and never matches (5.5: "SHOULD NOT
   be used"); exp= is ignored (no explanation is given to anyone). */

#include <string.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <skalibs/bytestr.h>
#include <skalibs/fmtscan.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "spf.h"

enum kind { K_ALL, K_INCLUDE, K_A, K_MX, K_PTR, K_IP4, K_IP6, K_EXISTS, K_REDIRECT, K_EXP, K_OTHER } ;

struct term
{
  enum kind kind ;
  enum spf_result qual ;
  char const *spec ;     /* domain-spec or address, 0 if none */
  size_t speclen ;
  unsigned int cidr4, cidr6 ;
  char ip[16] ;
} ;

static int digits (char const *s, size_t len, unsigned int max, unsigned int *n)
{
  unsigned int v = 0 ;
  if (!len || len > 3) return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0 ;
    v = v * 10 + (s[i] - '0') ;
  }
  if (v > max || (len > 1 && s[0] == '0')) return 0 ;
  *n = v ;
  return 1 ;
}

/* the cidr-lengths at the end of s (RFC 7208 5.6): cut off */
static int cidr (char const *s, size_t *len, unsigned int *c4, unsigned int *c6, int dual)
{
  size_t i = *len ;
  while (i && s[i-1] >= '0' && s[i-1] <= '9') i-- ;
  if (i == *len || !i || s[i-1] != '/') return 1 ;
  if (dual && i >= 2 && s[i-2] == '/')
  {
    if (!digits(s + i, *len - i, 128, c6)) return 0 ;
    *len = i - 2 ;
    i = *len ;
    while (i && s[i-1] >= '0' && s[i-1] <= '9') i-- ;
    if (i == *len || !i || s[i-1] != '/') return 1 ;
  }
  if (!digits(s + i, *len - i, 32, c4)) return 0 ;
  *len = i - 1 ;
  return 1 ;
}

static int parse (struct term *t, char const *s, size_t len)
{
  static char const *const names[] = { "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists" } ;
  size_t n = 0 ;
  t->qual = SPF_PASS ; t->spec = 0 ; t->speclen = 0 ; t->cidr4 = 32 ; t->cidr6 = 128 ;
  while (n < len && s[n] != '=' && s[n] != ':' && s[n] != '/') n++ ;
  if (n < len && s[n] == '=')
  {
    t->kind = n == 8 && !strncasecmp(s, "redirect", 8) ? K_REDIRECT : n == 3 && !strncasecmp(s, "exp", 3) ? K_EXP : K_OTHER ;
    if (!n) return 0 ;
    for (size_t i = 0 ; i < n ; i++)
      if (!((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') && !(i && ((s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))) return 0 ;
    t->spec = s + n + 1 ; t->speclen = len - n - 1 ;
    return t->kind == K_OTHER || t->speclen ;
  }
  switch (*s)
  {
    case '+' : s++ ; len-- ; n-- ; break ;
    case '-' : t->qual = SPF_FAIL ; s++ ; len-- ; n-- ; break ;
    case '~' : t->qual = SPF_SOFTFAIL ; s++ ; len-- ; n-- ; break ;
    case '?' : t->qual = SPF_NEUTRAL ; s++ ; len-- ; n-- ; break ;
    default : break ;
  }
  for (t->kind = K_ALL ; t->kind <= K_EXISTS ; t->kind++)
    if (strlen(names[t->kind]) == n && !strncasecmp(s, names[t->kind], n)) break ;
  if (t->kind > K_EXISTS) return 0 ;
  s += n ; len -= n ;
  switch (t->kind)
  {
    case K_ALL : return !len ;
    case K_IP4 :
    case K_IP6 :
    {
      int six = t->kind == K_IP6 ;
      char buf[64] ;
      size_t k, slash ;
      if (!len || *s != ':') return 0 ;
      s++ ; len-- ;
      slash = byte_rchr(s, len, '/') ;
      if (slash < len)
      {
        if (!digits(s + slash + 1, len - slash - 1, six ? 128 : 32, six ? &t->cidr6 : &t->cidr4)) return 0 ;
        len = slash ;
      }
      if (!len || len >= sizeof buf) return 0 ;
      memcpy(buf, s, len) ; buf[len] = 0 ;
      k = six ? ip6_scan(buf, t->ip) : ip4_scan(buf, t->ip) ;
      if (!k || k != len) return 0 ;
      if (!six)
      {
        /* RFC 7208 qnum: 0 to 255, no leading zero; ip4_scan takes more */
        char f[IP4_FMT] ;
        if (ip4_fmt(f, t->ip) != len || memcmp(f, buf, len)) return 0 ;
      }
      return 1 ;
    }
    case K_A :
    case K_MX :
      if (!cidr(s, &len, &t->cidr4, &t->cidr6, 1)) return 0 ;
      /* fall through */
    case K_PTR :
      if (!len) return 1 ;
      /* fall through */
    default :
      if (!len || *s != ':' || len == 1) return 0 ;
      t->spec = s + 1 ; t->speclen = len - 1 ;
      return 1 ;
  }
}

static int match (spf_ctx const *c, char const *ip, int six, unsigned int bits)
{
  unsigned int full = bits >> 3, rest = bits & 7 ;
  if (six != !!c->ip.is6) return 0 ;
  if (memcmp(c->ip.ip, ip, full)) return 0 ;
  return !rest || !((((unsigned char)c->ip.ip[full]) ^ ((unsigned char)ip[full])) & (0xff00 >> rest)) ;
}

static enum spf_result check (spf_ctx *c, char const *domain) ;

/* a lookup that found nothing: more than SPF_VOIDS_MAX is permerror */
static int voided (spf_ctx *c) { return ++c->voids > SPF_VOIDS_MAX ; }

/* addresses of name in c's family matched with t's lengths: 1, 0, or a result */
static int addrs (spf_ctx *c, char const *name, struct term const *t, enum spf_result *res, int countvoid)
{
  stralloc sa = STRALLOC_ZERO ;
  unsigned int n ;
  int six = !!c->ip.is6, r = spf_dns_query(name, six ? ns_t_aaaa : ns_t_a, &sa, &n, &c->deadline), m = 0 ;
  if (r < 0) { stralloc_free(&sa) ; *res = SPF_TEMPERROR ; return -1 ; }
  if (!r || !n) { stralloc_free(&sa) ; if (countvoid && voided(c)) { *res = SPF_PERMERROR ; return -1 ; } return 0 ; }
  for (unsigned int i = 0 ; i < n && !m ; i++) m = match(c, sa.s + i * (six ? 16 : 4), six, six ? t->cidr6 : t->cidr4) ;
  stralloc_free(&sa) ;
  return m ;
}

/* 1 if t matches, 0 if not, -1 with *res set to end the check */
static int eval (spf_ctx *c, struct term const *t, char const *domain, enum spf_result *res)
{
  stralloc name = STRALLOC_ZERO ;
  int r = 0 ;
  if (t->kind == K_ALL) return 1 ;
  if (t->kind == K_IP4 || t->kind == K_IP6) return match(c, t->ip, t->kind == K_IP6, t->kind == K_IP6 ? t->cidr6 : t->cidr4) ;
  if (++c->lookups > SPF_LOOKUPS_MAX) { *res = SPF_PERMERROR ; return -1 ; }
  if (t->spec ? !spf_macro(&name, t->spec, t->speclen, c, domain) : !stralloc_cats(&name, domain) || !stralloc_0(&name))
  {
    stralloc_free(&name) ;
    *res = SPF_PERMERROR ;
    return -1 ;
  }
  switch (t->kind)
  {
    case K_INCLUDE :
      switch (check(c, name.s))
      {
        case SPF_PASS : r = 1 ; break ;
        case SPF_FAIL : case SPF_SOFTFAIL : case SPF_NEUTRAL : r = 0 ; break ;
        case SPF_TEMPERROR : *res = SPF_TEMPERROR ; r = -1 ; break ;
        default : *res = SPF_PERMERROR ; r = -1 ; break ;
      }
      break ;
    case K_A :
    case K_EXISTS :
    {
      struct term any = *t ;
      if (t->kind == K_EXISTS)
      {
        /* exists: any A record, whatever the client's family */
        stralloc sa = STRALLOC_ZERO ;
        unsigned int n ;
        int q = spf_dns_query(name.s, ns_t_a, &sa, &n, &c->deadline) ;
        stralloc_free(&sa) ;
        if (q < 0) { *res = SPF_TEMPERROR ; r = -1 ; }
        else if (!q || !n) r = voided(c) ? (*res = SPF_PERMERROR, -1) : 0 ;
        else r = 1 ;
        break ;
      }
      r = addrs(c, name.s, &any, res, 1) ;
      break ;
    }
    case K_MX :
    {
      stralloc mx = STRALLOC_ZERO ;
      unsigned int n ;
      int q = spf_dns_query(name.s, ns_t_mx, &mx, &n, &c->deadline) ;
      if (q < 0) { *res = SPF_TEMPERROR ; r = -1 ; }
      else if (!q || !n) r = voided(c) ? (*res = SPF_PERMERROR, -1) : 0 ;
      else if (n > SPF_MX_MAX) { *res = SPF_PERMERROR ; r = -1 ; }
      else
      {
        size_t pos = 0 ;
        for (unsigned int i = 0 ; i < n && !r ; i++)
        {
          r = addrs(c, mx.s + pos, t, res, 0) ;
          pos += strlen(mx.s + pos) + 1 ;
        }
      }
      stralloc_free(&mx) ;
      break ;
    }
    default : r = 0 ; break ;  /* ptr */
  }
  stralloc_free(&name) ;
  return r ;
}

/* RFC 7208 4.3: a name of labels of 1 to 63 bytes, not too long */
static int valid (char const *d)
{
  size_t len = strlen(d), label = 0 ;
  if (!len || len > SPF_NAME_MAX || !strchr(d, '.')) return 0 ;
  for (size_t i = 0 ; i <= len ; i++)
  {
    if (d[i] == '.' || !d[i]) { if (!label || label > 63) return i == len && !label && i ; label = 0 ; }
    else label++ ;
  }
  return 1 ;
}

static enum spf_result check (spf_ctx *c, char const *domain)
{
  stralloc txt = STRALLOC_ZERO ;
  unsigned int n, found = 0 ;
  char const *rec = 0 ;
  enum spf_result res = SPF_NEUTRAL ;
  struct term t, redirect = { .kind = K_OTHER } ;
  int r, pass ;
  if (!valid(domain)) return SPF_NONE ;
  r = spf_dns_query(domain, ns_t_txt, &txt, &n, &c->deadline) ;
  if (r < 0) { stralloc_free(&txt) ; return SPF_TEMPERROR ; }
  if (r)
  {
    size_t pos = 0 ;
    for (unsigned int i = 0 ; i < n ; i++)
    {
      char const *s = txt.s + pos ;
      size_t len = strlen(s) ;
      pos += len + 1 ;
      if (len >= 6 && !strncasecmp(s, "v=spf1", 6) && (len == 6 || s[6] == ' ')) { found++ ; rec = s + 6 ; }
    }
  }
  if (found != 1) { stralloc_free(&txt) ; return found ? SPF_PERMERROR : SPF_NONE ; }
  if (strlen(rec) > SPF_RECORD_MAX) { stralloc_free(&txt) ; return SPF_PERMERROR ; }
  /* pass 0: syntax; pass 1: evaluation */
  for (pass = 0 ; pass < 2 ; pass++)
  {
    char const *s = rec ;
    int exp = 0 ;
    redirect.kind = K_OTHER ;
    for (;;)
    {
      size_t len ;
      while (*s == ' ') s++ ;
      if (!*s) break ;
      len = str_chr(s, ' ') ;
      if (!parse(&t, s, len)) { stralloc_free(&txt) ; return SPF_PERMERROR ; }
      s += len ;
      if (t.kind == K_REDIRECT || t.kind == K_EXP)
      {
        if (t.kind == K_REDIRECT ? redirect.kind == K_REDIRECT : exp++) { stralloc_free(&txt) ; return SPF_PERMERROR ; }
        if (t.kind == K_REDIRECT) redirect = t ;
        continue ;
      }
      if (t.kind == K_OTHER || !pass) continue ;
      r = eval(c, &t, domain, &res) ;
      if (r < 0) { stralloc_free(&txt) ; return res ; }
      if (r) { stralloc_free(&txt) ; return t.qual ; }
    }
  }
  /* 6.1: redirect only when no mechanism matched, all included */
  if (redirect.kind == K_REDIRECT)
  {
    stralloc name = STRALLOC_ZERO ;
    if (++c->lookups > SPF_LOOKUPS_MAX || !spf_macro(&name, redirect.spec, redirect.speclen, c, domain)) res = SPF_PERMERROR ;
    else
    {
      res = check(c, name.s) ;
      if (res == SPF_NONE) res = SPF_PERMERROR ;
    }
    stralloc_free(&name) ;
  }
  stralloc_free(&txt) ;
  return res ;
}

enum spf_result spf_check (spf_ctx *c, char const *domain)
{
  c->lookups = 0 ;
  c->voids = 0 ;
  return check(c, domain) ;
}
