/* MAIL FROM:<path> and RCPT TO:<path> with their parameters, by RFC
   5321 4.1.2's grammar: a source route is read and dropped, a quoted
   local part is kept quoted unless it needs no quotes. RFC 6531 3.3
   adds UTF-8 to a local part's atext and qtext: taken here when well
   formed, and refused without SMTPUTF8 by the caller (p->utf8). */

#include <string.h>
#include "smtpd.h"
#include "utf8.h"

#define SIZE_DIGITS_MAX 20

static int atext (unsigned char c)
{
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
    || (c && strchr("!#$%&'*+-/=?^_`{|}~", c)) ;
}

static int letdig (unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ;
}

static int upper_eq (char const *s, char const *word)
{
  size_t n = strlen(word) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char c = s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i] ;
    if (c != word[i]) return 0 ;
  }
  return 1 ;
}

/* Dot-string: atoms joined by single dots; returns its length, 0 if s
   does not start with one */
static size_t dotstring (char const *s, size_t len)
{
  size_t i = 0 ;
  for (;;)
  {
    size_t start = i ;
    while (i < len && atext((unsigned char)s[i])) i++ ;
    if (i == start) return 0 ;
    if (i < len && s[i] == '.') { i++ ; continue ; }
    return i ;
  }
}

/* sub-domain *("." sub-domain), each Let-dig [Ldh-str]; returns the
   length, 0 if not a domain (a trailing dot or an empty label is not) */
static size_t domain (char const *s)
{
  size_t i = 0 ;
  for (;;)
  {
    size_t start = i ;
    while (letdig((unsigned char)s[i]) || s[i] == '-') i++ ;
    if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-') return 0 ;
    if (s[i] != '.') return i ;
    i++ ;
  }
}

/* "[" IPv4 "]" or "[IPv6:" hex, colons, dots "]"; returns the length */
static size_t literal (char const *s)
{
  size_t i = 1 ;
  if (upper_eq(s + 1, "IPV6:"))
  {
    size_t start = i += 5 ;
    while ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')
        || (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':' || s[i] == '.') i++ ;
    return i > start && i - start <= 45 && s[i] == ']' ? i + 1 : 0 ;
  }
  for (unsigned int k = 0 ; k < 4 ; k++)
  {
    unsigned int v = 0, d = 0 ;
    if (k && s[i++] != '.') return 0 ;
    while (s[i] >= '0' && s[i] <= '9' && d < 4) { v = v * 10 + (unsigned int)(s[i++] - '0') ; d++ ; }
    if (!d || d > 3 || v > 255) return 0 ;
  }
  return s[i] == ']' ? i + 1 : 0 ;
}

/* "@" domain *("," "@" domain) ":" : returns its length, 0 if none */
static size_t route (char const *s)
{
  size_t i = 0 ;
  for (;;)
  {
    size_t d ;
    if (s[i++] != '@') return 0 ;
    d = s[i] == '[' ? literal(s + i) : domain(s + i) ;
    if (!d) return 0 ;
    i += d ;
    if (s[i] == ':') return i + 1 ;
    if (s[i++] != ',') return 0 ;
  }
}

static int add (smtpd_path *p, char const *s, size_t n)
{
  if (p->len + n > ADDR_MAX) return 0 ;
  memcpy(p->addr + p->len, s, n) ;
  p->len += n ;
  return 1 ;
}

/* the local part at s (quoted or not) into p; returns its length in s,
   0 on a syntax error, (size_t)-1 if too long */
static size_t localpart (smtpd_path *p, char const *s)
{
  char plain[ADDR_MAX] ;
  size_t i = 1, n = 0 ;
  if (s[0] != '"')
  {
    size_t d = dotstring(s, strlen(s)) ;
    if (d && memchr(s, '%', d)) p->trick = 1 ;
    if (d && memchr(s, '!', d)) p->trick = 1 ;
    return !d ? 0 : add(p, s, d) ? d : (size_t)-1 ;
  }
  for (;; i++)
  {
    unsigned char c = (unsigned char)s[i] ;
    if (c == '"') break ;
    if (c == '\\') c = (unsigned char)s[++i] ;
    if (c < 32 || c == 127) return 0 ;
    if (n == sizeof plain) return (size_t)-1 ;
    plain[n++] = (char)c ;
  }
  i++ ;
  if (!n) return 0 ;
  if (memchr(plain, '@', n) || memchr(plain, '%', n) || memchr(plain, '!', n)) p->trick = 1 ;
  /* "john"@x is john@x: queue the simplest form */
  if (dotstring(plain, n) == n) return add(p, plain, n) ? i : (size_t)-1 ;
  return add(p, s, i) ? i : (size_t)-1 ;
}

static char const *params (smtpd_path *p, char const *s, int rcpt)
{
  for (;;)
  {
    size_t n ;
    while (*s == ' ') s++ ;
    if (!*s) return 0 ;
    n = strcspn(s, " ") ;
    if (rcpt) return "555 5.5.4 unsupported RCPT parameter" ;
    if (n > 5 && upper_eq(s, "SIZE="))
    {
      unsigned long v = 0 ;
      if (n - 5 > SIZE_DIGITS_MAX) return "501 5.5.4 bad SIZE parameter" ;
      for (size_t i = 5 ; i < n ; i++)
      {
        if (s[i] < '0' || s[i] > '9') return "501 5.5.4 bad SIZE parameter" ;
        v = v > (~0UL - 9) / 10 ? ~0UL : v * 10 + (unsigned long)(s[i] - '0') ;
      }
      p->size = v ;
    }
    /* RFC 4954 5: AUTH= is taken and ignored (we trust no other
       server's word on who sent it) */
    else if (n > 5 && upper_eq(s, "AUTH=")) ;
    /* RFC 6531 3.4 */
    else if (n == 8 && upper_eq(s, "SMTPUTF8")) p->smtputf8 = 1 ;
    else if (!((n == 9 && upper_eq(s, "BODY=7BIT")) || (n == 13 && upper_eq(s, "BODY=8BITMIME"))))
      return "555 5.5.4 unsupported MAIL parameter" ;
    s += n ;
  }
}

char const *smtpd_path_parse (smtpd_path *p, char const *s, int rcpt)
{
  char const *bad = rcpt ? "501 5.1.3 bad recipient address syntax" : "501 5.1.7 bad sender address syntax" ;
  char const *toolong = rcpt ? "501 5.1.3 recipient address too long" : "501 5.1.7 sender address too long" ;
  char const *word = rcpt ? "TO:" : "FROM:" ;
  size_t n ;
  memset(p, 0, sizeof *p) ;
  while (*s == ' ') s++ ;
  if (!upper_eq(s, word))
    return rcpt ? "501 5.5.4 syntax: RCPT TO:<address>" : "501 5.5.4 syntax: MAIL FROM:<address>" ;
  s += strlen(word) ;
  while (*s == ' ') s++ ;
  if (*s++ != '<') return bad ;
  if (*s == '>')
  {
    if (rcpt || (s[1] && s[1] != ' ')) return bad ;
    return params(p, s + 1, rcpt) ;
  }
  if (*s == '@')
  {
    n = route(s) ;
    if (!n) return bad ;
    s += n ;
  }
  n = localpart(p, s) ;
  if (n == (size_t)-1) return toolong ;
  if (!n) return bad ;
  s += n ;
  p->at = p->len ;
  if (*s == '@')
  {
    s++ ;
    p->literal = *s == '[' ;
    n = p->literal ? literal(s) : domain(s) ;
    if (!n) return bad ;
    if (!add(p, "@", 1) || !add(p, s, n)) return toolong ;
    s += n ;
  }
  /* RFC 5321 4.1.1.3: <postmaster> needs no domain; nothing else may lack one */
  else if (!rcpt || p->len != 10 || !upper_eq(p->addr, "POSTMASTER")) return bad ;
  if (*s++ != '>') return bad ;
  p->addr[p->len] = 0 ;
  p->utf8 = utf8_any(p->addr, p->len) ;
  if (p->utf8 && !utf8_valid(p->addr, p->len))
    return rcpt ? "501 5.1.3 bad recipient address syntax: malformed UTF-8"
      : "501 5.1.7 bad sender address syntax: malformed UTF-8" ;
  if (*s && *s != ' ') return bad ;
  return params(p, s, rcpt) ;
}
