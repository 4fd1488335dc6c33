/* local's header handling (src/local, linked as objects: another change
   is under way there): local_hops' loop and hop count, and local_copy's
   mbox quoting, whose mboxrd unquoting must give the message back.
   Input: byte 0 picks maxhops (0..15), then the message. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "local.h"
#include "fuzz.h"

static char const rcpt[] = "demo@example.test" ;

/* 1 if the header section (to the first empty line, or all) has a
   Delivered-To: line whose value is rcpt, or more than maxhops trace lines */
static int refused (char const *s, size_t n, unsigned long maxhops)
{
  unsigned long hops = 0 ;
  size_t pos = 0 ;
  while (pos < n)
  {
    char const *nl = memchr(s + pos, '\n', n - pos) ;
    size_t len ;
    if (!nl) break ;  /* an unfinished last line is not looked at */
    len = (size_t)(nl - (s + pos)) ;
    if (!len || (len == 1 && s[pos] == '\r')) break ;
    if (len >= 9 && !strncasecmp(s + pos, "received:", 9)) hops++ ;
    else if (len >= 13 && !strncasecmp(s + pos, "delivered-to:", 13))
    {
      char const *v = s + pos + 13 ;
      size_t vl = len - 13 ;
      hops++ ;
      while (vl && (*v == ' ' || *v == '\t')) { v++ ; vl-- ; }
      while (vl && (v[vl-1] == ' ' || v[vl-1] == '\t' || v[vl-1] == '\r')) vl-- ;
      /* local looks at the first 32 + ADDR_MAX bytes of a line only */
      if (len <= 32 + 256 && vl == sizeof rcpt - 1 && !strncasecmp(v, rcpt, vl)) return 1 ;
    }
    if (hops > maxhops) return 1 ;
    pos += len + 1 ;
  }
  return 0 ;
}

/* mboxrd: a line of '>'s then "From " loses one '>'; the last line
   added (empty) goes, and the newline added after an unfinished one */
static size_t unquote (char *d, char const *s, size_t n)
{
  size_t o = 0, pos = 0 ;
  while (pos < n)
  {
    char const *nl = memchr(s + pos, '\n', n - pos) ;
    size_t len = nl ? (size_t)(nl - (s + pos)) + 1 : n - pos, k = 0 ;
    while (k < len && s[pos + k] == '>') k++ ;
    if (k && len - k >= 5 && !memcmp(s + pos + k, "From ", 5)) { pos++ ; len-- ; }
    memcpy(d + o, s + pos, len) ;
    o += len ; pos += len ;
  }
  return o ;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  fuzz_home() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  local_ctx c = { .user = "demo", .home = "/nonexistent", .localname = "demo", .ext = "",
                  .domain = "example.test", .sender = "a@b.test", .recipient = rcpt } ;
  stralloc t = STRALLOC_ZERO ;
  unsigned long maxhops, forwards ;
  char const *out, *msg ;
  size_t outlen, msglen ;
  int r ;
  if (!size || size > 1 << 20) return 0 ;
  maxhops = data[0] % 16 ;
  msg = (char const *)data + 1 ; msglen = size - 1 ;
  fuzz_input_fd(0, (uint8_t const *)msg, msglen) ;
  r = local_hops(&c, maxhops, &forwards, &t) ;
  FUZZ_ASSERT(r == LOCAL_OK || r == LOCAL_PERM) ;
  /* Delivered-To lines are hops too: within the bound when accepted */
  FUZZ_ASSERT(r != LOCAL_OK || forwards <= maxhops) ;
  FUZZ_ASSERT(r == LOCAL_OK || (t.len && !memcmp(t.s, "5.4.6 ", 6))) ;
  FUZZ_ASSERT((r == LOCAL_PERM) == refused(msg, msglen, maxhops)) ;

  /* mbox: quoted, then an empty line; unquoted, the message again */
  fuzz_output_fd(5) ;
  FUZZ_ASSERT(local_copy(5, "X: y\n", 5, 1, "fuzz", &t) == 0) ;
  out = fuzz_output(5, &outlen) ;
  FUZZ_ASSERT(outlen >= 5 + msglen + 1 && !memcmp(out, "X: y\n", 5)) ;
  FUZZ_ASSERT(out[outlen - 1] == '\n' && (outlen < 2 || out[outlen - 2] == '\n')) ;
  {
    char *d = malloc(outlen) ;
    size_t n = unquote(d, out + 5, outlen - 5) ;
    size_t want = msglen + 1 + (msglen && msg[msglen - 1] != '\n') ;
    FUZZ_ASSERT(n == want) ;
    FUZZ_ASSERT(!memcmp(d, msg, msglen)) ;
    free(d) ;
  }
  /* plain (maildir, program): the bytes as they are */
  fuzz_output_fd(5) ;
  FUZZ_ASSERT(local_copy(5, "", 0, 0, "fuzz", &t) == 0) ;
  out = fuzz_output(5, &outlen) ;
  FUZZ_ASSERT(outlen == msglen && !memcmp(out, msg, msglen)) ;
  stralloc_free(&t) ;
  return 0 ;
}
