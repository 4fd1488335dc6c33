/* smtpd's Authentication-Results filter (src/smtpd/smtpd_arfilter.c,
   linked as an object: smtpd is being changed elsewhere), fed a message
   as smtpd feeds it: LF line ends, in pieces of any size. Input: bytes
   0-1 seed the piece sizes; the rest is the message (header section,
   maybe an empty line and a body). control/me is "test.me".
   Checked: the output and the count of deleted fields are the same for
   one piece, pieces of random sizes (empty ones too) and single bytes;
   the output is the input minus whole fields (a line and its
   continuation lines), each an Authentication-Results field, exactly
   those a reference written here from the filter's contract deletes
   (the name in any case, blanks before the colon; the authserv-id a
   token or a quoted-string after comments with escapes and folding:
   control/me in any case, or not ended within ARFILTER_HOLD_MAX bytes);
   every field that a reader of RFC 8601 and RFC 5322 would take for
   one claiming control/me among them; the body passes untouched. */
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

static int letter (uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ; }

/* the filter's contract: 1 if the field f (len bytes) is deleted. Its
   name in any case, blanks, a colon (all within HOLD_MAX bytes, or the
   field is deleted when the name and blanks fill them); then
   comments (nested, with escapes) and folding, and the id, a token or a
   quoted-string (escapes taken off): ours in any case is deleted, and a
   field whose id has not ended within HOLD_MAX bytes */
static int deleted (uint8_t const *f, size_t len)
{
  static char const name[] = "authentication-results" ;
  char id[sizeof ME + 1] ;
  size_t k = 0, idlen = 0 ;
  unsigned int depth = 0 ;
  int inid = 0, quoted = 0, escaped = 0 ;
  for (; k < sizeof name - 1 ; k++)
    if (k == len || (letter(f[k]) ? f[k] | 0x20 : f[k]) != name[k]) return 0 ;
  while (k < len && k < HOLD_MAX && wsp(f[k])) k++ ;
  /* blanks filling the hold: taken as ours */
  if (k == HOLD_MAX) return 1 ;
  if (k == len || f[k] != ':') return 0 ;
  for (k++ ; k < len ; k++)
  {
    uint8_t c = f[k] ;
    int end = 0 ;
    if (k == HOLD_MAX) return 1 ;
    if (escaped) { escaped = 0 ; if (inid) { if (idlen < sizeof id) id[idlen] = c ; idlen++ ; } continue ; }
    if (inid && quoted)
    {
      if (c == '\\') escaped = 1 ;
      else if (c == '"') end = 1 ;
      else if (c != '\n') { if (idlen < sizeof id) id[idlen] = c ; idlen++ ; }
    }
    else if (inid)
    {
      if (c == ';' || c == '(' || c == '"' || wsp(c) || c == '\n') end = 1 ;
      else { if (idlen < sizeof id) id[idlen] = c ; idlen++ ; }
    }
    else if (depth)
    {
      if (c == '\\') escaped = 1 ;
      else if (c == '(') depth++ ;
      else if (c == ')') depth-- ;
    }
    else if (c == '(') depth = 1 ;
    else if (c == '"') inid = quoted = 1 ;
    else if (!wsp(c) && c != '\n') { inid = 1 ; id[0] = c ; idlen = 1 ; }
    if (end) return idlen <= sizeof id && is_me((uint8_t const *)id, idlen) ;
  }
  /* the message ended in the field: an unquoted id read so far counts */
  return inid && !quoted && idlen <= sizeof id && is_me((uint8_t const *)id, idlen) ;
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
    for (; k < len && !wsp(f[k]) && f[k] != ';' && f[k] != '(' && f[k] != '"' && f[k] != '\n' && f[k] != '\r' ; k++)
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
    int del = deleted(s + i, e - i) ;
    /* a CR is an id byte to the filter, white space to a lenient reader
       (crashes/smtpd_arfilter-cr-after-id): fields with a CR are not held
       to the RFC reading, as smtpd refuses a bare CR before the filter
       sees it (554 5.6.0) */
    if (!memchr(s + i, '\r', e - i) && ours_rfc(s + i, e - i)) FUZZ_ASSERT(del) ;
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
