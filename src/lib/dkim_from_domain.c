/* The domain of the one address of the one From field (RFC 5322 3.6.2):
   after the last '@' of the address in angle brackets, or of the whole
   value when it has none; comments in parentheses and quoted strings
   are skipped. A message with two From fields, or none, gets 0: it is
   not signed. */

#include <string.h>
#include <skalibs/stralloc.h>
#include "dkim.h"

static int is_from (char const *s, size_t len)
{
  size_t n = (char const *)memchr(s, ':', len) - s ;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n-- ;
  return n == 4 && !strncasecmp(s, "from", 4) ;
}

int dkim_from_domain (stralloc *sa, char const *head, size_t headlen)
{
  size_t pos = 0, start, len, from = 0, flen = 0, at = 0, end = 0 ;
  unsigned int count = 0, depth = 0, angle = 0 ;
  int quoted = 0 ;
  while (dkim_field_next(head, headlen, &pos, &start, &len))
    if (is_from(head + start, len)) { from = start ; flen = len ; count++ ; }
  if (count != 1) return 0 ;
  for (size_t i = (char const *)memchr(head + from, ':', flen) - head + 1 ; i < from + flen ; i++)
  {
    char c = head[i] ;
    if (quoted) { if (c == '\\') i++ ; else if (c == '"') quoted = 0 ; continue ; }
    if (depth) { if (c == '\\') i++ ; else if (c == '(') depth++ ; else if (c == ')') depth-- ; continue ; }
    switch (c)
    {
      case '"' : quoted = 1 ; break ;
      case '(' : depth = 1 ; break ;
      case '<' : angle++ ; at = 0 ; break ;
      case '>' : if (at && !end) end = i ; break ;
      case ',' : if (!angle) return 0 ; break ;   /* two addresses */
      case '@' : if (!end) at = i + 1 ; break ;
      default : break ;
    }
  }
  if (!at || angle > 1) return 0 ;
  if (!end)
    for (end = at ; end < from + flen && head[end] != ' ' && head[end] != '\t' && head[end] != '\r'
         && head[end] != '\n' && head[end] != '(' && head[end] != '>' ; end++) ;
  if (end == at || end - at > DKIM_DOMAIN_MAX) return 0 ;
  sa->len = 0 ;
  if (!stralloc_readyplus(sa, end - at + 1)) return 0 ;
  for (size_t i = at ; i < end ; i++)
  {
    char c = head[i] ;
    if (c == '@' || c == '<' || c == '"') return 0 ;
    sa->s[sa->len++] = c >= 'A' && c <= 'Z' ? c + 32 : c ;
  }
  sa->s[sa->len++] = 0 ;
  return 1 ;
}
