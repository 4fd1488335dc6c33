/* RFC 5322 3.4 address lists, read leniently as sendmail and Postfix
   read them: a mailbox is its angle address if it has one, else its
   words put together; comments and blanks (folding included) are
   dropped; a group's name is dropped and its members kept; a source
   route (RFC 5322 4.4 obs-route) is dropped. A quoted local part stays
   quoted unless it needs no quotes, as smtpd keeps it. */

#include <string.h>
#include <skalibs/stralloc.h>
#include "inject.h"

static int atext (unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
    || c >= 128 || (c && strchr("!#$%&'*+-/=?^_`{|}~", c)) ;
}

/* index past the comment opening at s[i] (nested, backslash quoting) */
static size_t comment (char const *s, size_t len, size_t i)
{
  unsigned int depth = 0 ;
  for (; i < len ; i++)
  {
    if (s[i] == '\\') i++ ;
    else if (s[i] == '(') depth++ ;
    else if (s[i] == ')' && !--depth) return i + 1 ;
  }
  return len ;
}

/* index past the quoted string or domain literal opening at s[i] */
static size_t quoted (char const *s, size_t len, size_t i, char end)
{
  for (i++ ; i < len ; i++)
  {
    if (s[i] == '\\') i++ ;
    else if (s[i] == end) return i + 1 ;
  }
  return len ;
}

/* a quoted local part whose content is a dot-string loses its quotes */
static int unquote (stralloc *out, char const *a, size_t n)
{
  size_t q = quoted(a, n, 0, '"') ;
  int dot = 1 ;
  if (q < 3 || a[q-1] != '"' || (q < n && a[q] != '@')) return stralloc_catb(out, a, n) ;
  for (size_t i = 1 ; i < q - 1 ; i++)
  {
    if (a[i] == '.' && !dot) dot = 1 ;
    else if (atext((unsigned char)a[i])) dot = 0 ;
    else return stralloc_catb(out, a, n) ;
  }
  if (dot) return stralloc_catb(out, a, n) ;
  return stralloc_catb(out, a + 1, q - 2) && stralloc_catb(out, a + q, n - q) ;
}

typedef struct mbox_s mbox, *mbox_ref ;
struct mbox_s
{
  stralloc words ;   /* the words outside angle brackets */
  stralloc angle ;   /* the angle address */
  stralloc out ;
  int seenangle ;
} ;

static int emit (mbox *m, inject_addr_func *f, void *data)
{
  char const *a = m->seenangle ? m->angle.s : m->words.s ;
  size_t n = m->seenangle ? m->angle.len : m->words.len ;
  if (m->seenangle && n && a[0] == '@')
  {
    /* the route ends at the first ':' outside a domain literal or a
       quoted string: <@[IPv6:::1]:u@d> is u@d */
    size_t i = 0 ;
    char close = 0 ;
    for (; i < n ; i++)
    {
      if (close) { if (a[i] == '\\' && i + 1 < n) i++ ; else if (a[i] == close) close = 0 ; }
      else if (a[i] == '[') close = ']' ;
      else if (a[i] == '"') close = '"' ;
      else if (a[i] == ':') break ;
    }
    if (i < n) { a += i + 1 ; n -= i + 1 ; }
  }
  m->out.len = 0 ;
  if (n)
  {
    if (!(a[0] == '"' ? unquote(&m->out, a, n) : stralloc_catb(&m->out, a, n))) return 0 ;
    (*f)(m->out.s, m->out.len, data) ;
  }
  m->words.len = m->angle.len = 0 ;
  m->seenangle = 0 ;
  return 1 ;
}

int inject_addrlist (char const *s, size_t len, inject_addr_func *f, void *data)
{
  mbox m = { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO, 0 } ;
  int inangle = 0, ok = 1 ;
  size_t i = 0 ;
  while (ok && i < len)
  {
    char c = s[i] ;
    stralloc *cur = inangle ? &m.angle : &m.words ;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { i++ ; continue ; }
    if (c == '(') { i = comment(s, len, i) ; continue ; }
    if (c == '"' || c == '[')
    {
      size_t j = quoted(s, len, i, c == '"' ? '"' : ']') ;
      ok = stralloc_catb(cur, s + i, j - i) ;
      i = j ;
      continue ;
    }
    i++ ;
    if (inangle)
    {
      if (c == '>') inangle = 0 ;
      else ok = stralloc_catb(&m.angle, &c, 1) ;
      continue ;
    }
    switch (c)
    {
      case '<' : inangle = 1 ; m.seenangle = 1 ; m.angle.len = 0 ; break ;
      case ',' :
      case ';' : ok = emit(&m, f, data) ; break ;
      case ':' : m.words.len = 0 ; m.seenangle = 0 ; break ;  /* a group's name */
      case '>' : break ;
      default : ok = stralloc_catb(&m.words, &c, 1) ; break ;
    }
  }
  if (ok) ok = emit(&m, f, data) ;
  stralloc_free(&m.words) ;
  stralloc_free(&m.angle) ;
  stralloc_free(&m.out) ;
  return ok ;
}
