/* SPF's macro expansion (src/lib/spf_macro.c, RFC 7208 7) against a
   reference written here from the RFC's grammar, with spf_macro's own
   choices (an upper-case letter as its lower case; a name longer than
   SPF_NAME_MAX loses labels on the left; at most 7 delimiters and a
   value of at most SPF_NAME_MAX + 1 parts). Input: byte 0 picks the
   client address (IPv4 or IPv6); then sender, HELO name, domain and the
   macro-string, separated by NULs (so none holds one, as in spf_check).
   Checked: a failure leaves sa as it was; a success appends one
   NUL-ended name of at most SPF_NAME_MAX bytes, no NUL in it, equal to
   the reference's expansion cut at a label boundary. */
#include <string.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include "spf.h"
#include "fuzz.h"

static char const *const ips[4] = { "192.0.2.3", "2001:db8::cb01", "0.0.0.0", "::ffff:10.1.2.3" } ;

static char *field (char const **s, size_t *len)
{
  static char buf[4][SPF_RECORD_MAX + 1] ;
  static unsigned int k ;
  char *b = buf[k++ & 3] ;
  size_t n = 0 ;
  while (n < *len && (*s)[n] && n < SPF_RECORD_MAX) n++ ;
  memcpy(b, *s, n) ;
  b[n] = 0 ;
  while (n < *len && (*s)[n]) n++ ;   /* the rest of a field too long */
  if (n < *len) n++ ;
  *s += n ; *len -= n ;
  return b ;
}

/* the reference: 1 with the expansion in out, 0 if the macro-string is
   not valid, -1 where spf_macro's limits decide (not compared) */
static int ref_value (stralloc *v, char m, spf_ctx const *c, char const *d)
{
  char const *at = strrchr(c->sender, '@') ;
  v->len = 0 ;
  switch (m)
  {
    case 's' : return stralloc_cats(v, c->sender) ;
    case 'l' :
      if (!at) return stralloc_cats(v, "postmaster") ;
      return stralloc_catb(v, c->sender, at - c->sender) ;
    case 'o' : return stralloc_cats(v, at ? at + 1 : c->sender) ;
    case 'd' : return stralloc_cats(v, d) ;
    case 'h' : return stralloc_cats(v, c->helo) ;
    case 'p' : return stralloc_cats(v, "unknown") ;
    case 'v' : return stralloc_cats(v, c->ip.is6 ? "ip6" : "in-addr") ;
    case 'i' :
    {
      static char const hex[] = "0123456789abcdef" ;
      if (!c->ip.is6)
      {
        char f[IP4_FMT] ;
        return stralloc_catb(v, f, ip4_fmt(f, (char const *)c->ip.ip)) ;
      }
      /* RFC 7208 7.3: dot-format, a nibble a label */
      for (unsigned int i = 0 ; i < 16 ; i++)
      {
        char x[4] = { hex[(unsigned char)c->ip.ip[i] >> 4], '.', hex[c->ip.ip[i] & 15], '.' } ;
        if (!stralloc_catb(v, x, i == 15 ? 3 : 4)) return 0 ;
      }
      return 1 ;
    }
    default : return 0 ;
  }
}

static int reference (stralloc *out, char const *s, spf_ctx const *c, char const *d)
{
  stralloc v = STRALLOC_ZERO ;
  int r = 1 ;
  out->len = 0 ;
  while (*s && r == 1)
  {
    char m ;
    unsigned long digits = 0 ;
    size_t ndigits = 0, nd = 0, parts = 0, first = 0 ;
    int rev = 0 ;
    char delims[16] ;
    size_t starts[1024], ends[1024] ;
    if (*s != '%') { r = stralloc_catb(out, s++, 1) ? 1 : -1 ; continue ; }
    s++ ;
    if (*s == '%') { s++ ; r = stralloc_catb(out, "%", 1) ? 1 : -1 ; continue ; }
    if (*s == '_') { s++ ; r = stralloc_catb(out, " ", 1) ? 1 : -1 ; continue ; }
    if (*s == '-') { s++ ; r = stralloc_catb(out, "%20", 3) ? 1 : -1 ; continue ; }
    if (*s != '{') { r = 0 ; break ; }
    s++ ;
    m = *s ;
    if (m >= 'A' && m <= 'Z') m += 'a' - 'A' ;
    if (!m || !strchr("slodiphv", m)) { r = 0 ; break ; }
    s++ ;
    while (*s >= '0' && *s <= '9') { if (ndigits++ < 9) digits = digits * 10 + (*s - '0') ; s++ ; }
    if (*s == 'r' || *s == 'R') { rev = 1 ; s++ ; }
    while (*s && strchr(".-+,/_=", *s)) { if (nd < sizeof delims - 1) delims[nd] = *s ; nd++ ; s++ ; }
    if (*s != '}') { r = 0 ; break ; }
    s++ ;
    /* spf_macro's limits: digits up to 4, delimiters up to 7 */
    if (ndigits > 3 || nd > 7) { r = -1 ; break ; }
    if (!nd) delims[nd++] = '.' ;
    delims[nd] = 0 ;
    if (!ref_value(&v, m, c, d)) { r = -1 ; break ; }
    /* split */
    {
      size_t i = 0 ;
      for (;;)
      {
        size_t j = i ;
        while (j < v.len && !memchr(delims, v.s[j], nd)) j++ ;
        if (parts == sizeof starts / sizeof *starts) { r = -1 ; break ; }
        starts[parts] = i ; ends[parts++] = j ;
        if (j == v.len) break ;
        i = j + 1 ;
      }
      if (r != 1) break ;
    }
    if (parts > SPF_NAME_MAX + 1) { r = 0 ; break ; }
    if (rev)
      for (size_t a = 0, b = parts - 1 ; a < b ; a++, b--)
      {
        size_t t = starts[a] ; starts[a] = starts[b] ; starts[b] = t ;
        t = ends[a] ; ends[a] = ends[b] ; ends[b] = t ;
      }
    if (digits && digits < parts) first = parts - digits ;
    for (size_t k = first ; k < parts ; k++)
      if ((k > first && !stralloc_catb(out, ".", 1)) || !stralloc_catb(out, v.s + starts[k], ends[k] - starts[k])) { r = -1 ; break ; }
  }
  stralloc_free(&v) ;
  return r ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static stralloc sa = STRALLOC_ZERO, ref = STRALLOC_ZERO ;
  spf_ctx c ;
  char const *s = (char const *)data + 1 ;
  size_t len, base ;
  char *sender, *helo, *domain, *macro ;
  int r, q ;
  if (!size || size > 4 * SPF_RECORD_MAX) return 0 ;
  len = size - 1 ;
  memset(&c, 0, sizeof c) ;
  FUZZ_ASSERT(ip46full_scan(ips[data[0] & 3], &c.ip)) ;
  sender = field(&s, &len) ;
  helo = field(&s, &len) ;
  domain = field(&s, &len) ;
  macro = field(&s, &len) ;
  c.sender = sender ;
  c.helo = helo ;

  /* what sa held before stays */
  sa.len = 0 ;
  FUZZ_ASSERT(stralloc_cats(&sa, "held")) ;
  base = sa.len ;
  r = spf_macro(&sa, macro, strlen(macro), &c, domain) ;
  FUZZ_ASSERT(sa.len >= base && !memcmp(sa.s, "held", 4)) ;
  q = reference(&ref, macro, &c, domain) ;
  if (!r)
  {
    FUZZ_ASSERT(sa.len == base) ;
    /* a valid macro-string fails only by its name: a part past 253
       bytes that no label cut can shorten */
    if (q == 1)
    {
      size_t n = ref.len, i = 0 ;
      while (n > SPF_NAME_MAX)
      {
        char const *dot = memchr(ref.s + i, '.', n) ;
        if (!dot) return 0 ;  /* no label left to cut: a failure is right */
        n -= dot + 1 - (ref.s + i) ;
        i = dot + 1 - ref.s ;
      }
      FUZZ_ASSERT(0) ;       /* valid and cut to size: spf_macro failed */
    }
    return 0 ;
  }
  FUZZ_ASSERT(r == 1) ;
  {
    char const *name = sa.s + base ;
    size_t n = sa.len - base ;
    FUZZ_ASSERT(n >= 1 && !name[n - 1] && n - 1 <= SPF_NAME_MAX) ;
    FUZZ_ASSERT(strlen(name) == n - 1) ;
    FUZZ_ASSERT(q != 0) ;
    if (q == 1)
    {
      /* the reference's, its left labels cut until it fits */
      FUZZ_ASSERT(n - 1 <= ref.len && (n == 1 || !memcmp(ref.s + ref.len - (n - 1), name, n - 1))) ;  /* ref.s is null while empty */
      if (n - 1 < ref.len)
      {
        FUZZ_ASSERT(ref.len > SPF_NAME_MAX && ref.s[ref.len - n] == '.') ;
        /* cut no more than needed: the label before is too long to keep */
        {
          size_t k = ref.len - n ;
          size_t j = k ;
          while (j && ref.s[j - 1] != '.') j-- ;
          FUZZ_ASSERT(ref.len - j > SPF_NAME_MAX) ;
        }
      }
      else FUZZ_ASSERT(ref.len <= SPF_NAME_MAX) ;
    }
  }
  return 0 ;
}
