#include <string.h>
#include <skalibs/stralloc.h>
#include "dkim.h"

static char const *const names[] = { DKIM_SIGNED_FIELDS } ;

static int is (char const *s, size_t len, char const *name)
{
  size_t n = strlen(name) ;
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len-- ;
  return len == n && !strncasecmp(s, name, n) ;
}

int dkim_pick (stralloc *sa, char const *head, size_t headlen)
{
  for (size_t k = 0 ; k < sizeof names / sizeof *names ; k++)
  {
    size_t pos = 0, start, len ;
    unsigned int count = !k ;   /* names[0] is From: one more */
    while (dkim_field_next(head, headlen, &pos, &start, &len))
      if (is(head + start, (size_t)((char const *)memchr(head + start, ':', len) - (head + start)), names[k])) count++ ;
    while (count--)
      if ((sa->len && !stralloc_catb(sa, ":", 1)) || !stralloc_cats(sa, names[k])) return 0 ;
  }
  return 1 ;
}
