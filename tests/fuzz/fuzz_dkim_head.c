/* DKIM's header parsing (src/lib/dkim_*.c), as the signer reads a
   header section and a verifier will: the From domain, the fields
   picked for h=, their relaxed forms. Input: a header section. Checked:
   a relaxed field is one line (CR LF only at its end), a lowercase name
   and a colon, no blank run, no blank before its CR LF; the hash input
   holds at most one field per h= name; a From domain has no '@' and
   fits DKIM_DOMAIN_MAX. */
#include <string.h>
#include <skalibs/stralloc.h>
#include "dkim.h"
#include "fuzz.h"

static void check_relaxed (char const *s, size_t len, unsigned int *lines)
{
  size_t i = 0 ;
  int name = 1 ;
  while (i < len)
  {
    char const *e = memchr(s + i, '\n', len - i) ;
    size_t end ;
    FUZZ_ASSERT(e) ;
    end = e - s ;
    FUZZ_ASSERT(end > i && s[end - 1] == '\r') ;
    name = 1 ;
    for (size_t j = i ; j < end - 1 ; j++)
    {
      FUZZ_ASSERT(s[j] != '\r' && s[j] != '\n' && s[j] != '\t') ;
      if (s[j] == ':') name = 0 ;
      if (name) FUZZ_ASSERT(s[j] < 'A' || s[j] > 'Z') ;
      if (!name && s[j] == ' ') FUZZ_ASSERT(j + 1 < end - 1 && s[j + 1] != ' ') ;
    }
    FUZZ_ASSERT(!name) ;
    (*lines)++ ;
    i = end + 1 ;
  }
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  stralloc from = STRALLOC_ZERO, h = STRALLOC_ZERO, in = STRALLOC_ZERO, one = STRALLOC_ZERO ;
  char const *head = (char const *)data ;
  size_t pos = 0, start, len ;
  unsigned int lines = 0, names = 0 ;
  if (size > DKIM_HEADER_MAX) return 0 ;
  if (dkim_from_domain(&from, head, size))
  {
    FUZZ_ASSERT(from.len >= 2 && from.len - 1 <= DKIM_DOMAIN_MAX && !from.s[from.len - 1]) ;
    FUZZ_ASSERT(!memchr(from.s, '@', from.len - 1)) ;
  }
  while (dkim_field_next(head, size, &pos, &start, &len))
  {
    unsigned int n = 0 ;
    FUZZ_ASSERT(start + len <= size && memchr(head + start, ':', len)) ;
    one.len = 0 ;
    FUZZ_ASSERT(dkim_relax_header(&one, head + start, len, 1)) ;
    check_relaxed(one.s, one.len, &n) ;
    FUZZ_ASSERT(n == 1) ;
  }
  FUZZ_ASSERT(pos == size) ;
  FUZZ_ASSERT(dkim_pick(&h, head, size)) ;
  FUZZ_ASSERT(h.len >= 4 && !memcmp(h.s, "from", 4)) ;
  for (size_t i = 0 ; i < h.len ; i++) if (h.s[i] == ':') names++ ;
  FUZZ_ASSERT(dkim_head_input(&in, head, size, h.s, h.len, 0)) ;
  check_relaxed(in.s, in.len, &lines) ;
  /* From is listed once more than present: never all names found */
  FUZZ_ASSERT(lines <= names) ;
  stralloc_free(&from) ; stralloc_free(&h) ; stralloc_free(&in) ; stralloc_free(&one) ;
  return 0 ;
}
