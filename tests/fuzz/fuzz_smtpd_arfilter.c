/* smtpd's Authentication-Results filter (src/smtpd/smtpd_arfilter.c,
   linked as an object: smtpd is being changed elsewhere), fed a message
   as smtpd feeds it: LF line ends, in pieces of any size. Input: bytes
   0-1 seed the piece sizes; the rest is the message (header section,
   maybe an empty line and a body). control/me is "test.me".
   Checked: the output and the count of deleted fields are the same for
   one piece, pieces of random sizes (empty ones too) and single bytes;
   the output is the input minus whole fields (a line and its
   continuation lines), each an Authentication-Results field, exactly
   those a reference written here from the filter's contract deletes:
   the authserv-id (after white space, folding and nested comments) is
   control/me in any case, or is not found within ARFILTER_HOLD_MAX bytes
   of the field's start; the body passes untouched.
   FUZZ_ARFILTER_RFC=1 checks instead what a reader of RFC 8601 and RFC
   5322 would take for our field (quoted-pairs in comments, the id as a
   quoted-string, white space before the colon): that each such field is
   deleted (tests/fuzz/README: known bugs). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include "smtpd.h"
#include "fuzz.h"

/* as smtpd_arfilter.c */
#define HOLD_MAX 1024
#define ME "test.me"

smtpd_conf smtpd_config ;

static stralloc got = STRALLOC_ZERO ;
static int rfc ;

static void out (char const *s, size_t n)
{
  FUZZ_ASSERT(n) ;
  FUZZ_ASSERT(stralloc_catb(&got, s, n)) ;
}

static unsigned long run (uint8_t const *s, size_t n, unsigned int seed, unsigned int mode)
{
  size_t i = 0 ;
  got.len = 0 ;
  smtpd_arfilter_reset() ;
  while (i < n)
  {
    size_t k ;
    if (!mode) k = n - i ;
    else if (mode == 1) k = 1 ;
    else
    {
      seed = seed * 1103515245u + 12345u ;
      k = (seed >> 16) % 97 ;  /* 0 too: an empty piece changes nothing */
      if (k > n - i) k = n - i ;
    }
    smtpd_arfilter((char const *)s + i, k, &out) ;
    i += k ;
  }
  smtpd_arfilter_end(&out) ;
  return smtpd_arfilter_dropped() ;
}

/* memcmp, which may not be given null pointers (an empty stralloc) */
static int same (char const *a, size_t alen, void const *b, size_t blen)
{
  return alen == blen && (!alen || !memcmp(a, b, alen)) ;
}

static int wsp (char c) { return c == ' ' || c == '\t' ; }

/* the end of the field starting at s[i]: past its last LF, or n */
static size_t field_end (uint8_t const *s, size_t n, size_t i)
{
  for (;;)
  {
    uint8_t const *e = memchr(s + i, '\n', n - i) ;
    if (!e) return n ;
    i = e - s + 1 ;
    if (i == n || !wsp(s[i])) return i ;
  }
}

static int is_me (uint8_t const *s, size_t n)
{
  return n == sizeof ME - 1 && !strncasecmp((char const *)s, ME, n) ;
}

/* the filter's contract: 1 if the field f (len bytes) is deleted;
   *leak set when the field is left inside a comment (see KNOWN) */
static int deleted (uint8_t const *f, size_t len, int *leak)
{
  static char const name[] = "authentication-results:" ;
  size_t k = 0, idstart = 0 ;
  unsigned int depth = 0 ;
  *leak = 0 ;
  for (; k < sizeof name - 1 ; k++)
  {
    if (k == len) return 0 ;
    if ((f[k] >= 'A' && f[k] <= 'Z' ? f[k] + 32 : f[k]) != name[k]
     /* KNOWN (tests/fuzz/crashes/smtpd_arfilter-cr-in-name, reported,
        harmless): the filter's c | 0x20 takes a CR for the '-' */
     && !(name[k] == '-' && f[k] == '\r')) return 0 ;
  }
  for (; k < len ; k++)
  {
    uint8_t c = f[k] ;
    if (k == HOLD_MAX) { *leak = depth > 0 ; return 1 ; }
    if (!idstart)
    {
      if (depth) { if (c == ')') depth-- ; else if (c == '(') depth++ ; }
      else if (c == '(') depth = 1 ;
      else if (!wsp(c) && c != '\n') idstart = k ;
    }
    else if (c == ';' || wsp(c) || c == '\n' || c == '(') return is_me(f + idstart, k - idstart) ;
  }
  /* the field ended (or the message within it) with no id */
  *leak = depth > 0 ;
  return idstart && is_me(f + idstart, len - idstart) ;
}

/* what RFC 5322 and RFC 8601 make of it: 1 if the field claims our
   authserv-id */
static int ours_rfc (uint8_t const *f, size_t len)
{
  static char const name[] = "authentication-results" ;
  size_t k = 0 ;
  unsigned int depth = 0 ;
  char id[HOLD_MAX] ;
  size_t n = 0 ;
  for (; k < sizeof name - 1 ; k++)
    if (k == len || (f[k] >= 'A' && f[k] <= 'Z' ? f[k] + 32 : f[k]) != name[k]) return 0 ;
  while (k < len && wsp(f[k])) k++ ;   /* obs-optional: WSP before the colon */
  if (k == len || f[k++] != ':') return 0 ;
  /* CFWS */
  for (; k < len ; k++)
  {
    uint8_t c = f[k] ;
    if (depth)
    {
      if (c == '\\') k++ ;
      else if (c == '(') depth++ ;
      else if (c == ')') depth-- ;
    }
    else if (c == '(') depth = 1 ;
    else if (!wsp(c) && c != '\n' && c != '\r') break ;
  }
  if (k >= len) return 0 ;
  if (f[k] == '"')
  {
    for (k++ ; k < len && f[k] != '"' ; k++)
    {
      if (f[k] == '\\' && k + 1 < len) k++ ;
      else if (f[k] == '\r' || f[k] == '\n') continue ;   /* folding */
      if (n == sizeof id) return 0 ;
      id[n++] = f[k] ;
    }
    if (k >= len) return 0 ;
  }
  else
    for (; k < len && !wsp(f[k]) && f[k] != ';' && f[k] != '(' && f[k] != '\n' && f[k] != '\r' ; k++)
    {
      if (n == sizeof id) return 0 ;
      id[n++] = f[k] ;
    }
  return is_me((uint8_t const *)id, n) ;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  if (!stralloc_copyb(&smtpd_config.me, ME, sizeof ME)) abort() ;
  rfc = !!getenv("FUZZ_ARFILTER_RFC") ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static stralloc one = STRALLOC_ZERO ;
  uint8_t const *s ;
  size_t n, i = 0, o = 0 ;
  unsigned int seed ;
  unsigned long d0, d, fields = 0 ;
  if (size < 2) return 0 ;
  seed = data[0] | (unsigned int)data[1] << 8 ;
  s = data + 2 ;
  n = size - 2 ;

  d0 = run(s, n, seed, 0) ;
  one.len = 0 ;
  FUZZ_ASSERT(stralloc_catb(&one, got.s, got.len)) ;
  d = run(s, n, seed, 2) ;
  FUZZ_ASSERT(d == d0 && same(got.s, got.len, one.s, one.len)) ;
  d = run(s, n, seed, 1) ;
  FUZZ_ASSERT(d == d0 && same(got.s, got.len, one.s, one.len)) ;

  /* field by field: kept whole, or deleted whole */
  while (i < n && s[i] != '\n')
  {
    size_t e = field_end(s, n, i) ;
    int leak ;
    int del = deleted(s + i, e - i, &leak) ;
    if (rfc && ours_rfc(s + i, e - i)) FUZZ_ASSERT(del) ;
    /* KNOWN (tests/fuzz/crashes/smtpd_arfilter-comment-leak, reported,
       not fixed here): a field left inside a comment leaves the filter
       inside it for the next Authentication-Results field, whose id is
       then missed (a forged field kept) or taken from its middle; the
       fields after such a one are not compared */
    if (leak) return 0 ;
    if (del) fields++ ;
    else
    {
      FUZZ_ASSERT(one.len - o >= e - i && same(one.s + o, e - i, s + i, e - i)) ;
      o += e - i ;
    }
    i = e ;
  }
  /* the body */
  FUZZ_ASSERT(same(one.s + o, one.len - o, s + i, n - i)) ;
  FUZZ_ASSERT(fields == d0) ;
  return 0 ;
}
