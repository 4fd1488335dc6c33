/* The state file (src/lib/state_*) and a todo file as the queue tools
   read it (qread_todo_parse): a parsed state file's recipients lie in
   its bytes, with fixed fields in range; writing back what was parsed
   (state_put_header, state_put_rcpt, state_fmt_fixed) gives the same
   bytes; a todo file's recipients are the envelope's. */
#include <stdlib.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "qread.h"
#include "state.h"
#include "fuzz.h"

static void state (char const *s, size_t len)
{
  state_msg m ;
  state_rcpt r ;
  stralloc sa = STRALLOC_ZERO ;
  size_t pos ;
  unsigned int n = 0 ;
  if (!state_parse(&m, s, len)) return ;
  FUZZ_ASSERT(m.len == len && m.nrcpts >= 1 && m.rcpts_at < len) ;
  /* state.h: no field but the last is empty, so the file is one framed
     record as it is (it travels so on send's pipes) */
  for (size_t i = 0 ; i + 1 < len ; i++) FUZZ_ASSERT(s[i] || (i && s[i - 1])) ;
  FUZZ_ASSERT(m.sender > s && m.sender < s + m.rcpts_at) ;
  FUZZ_ASSERT(state_put_header(&sa, m.uid, m.size, m.sender, strlen(m.sender))) ;
  pos = m.rcpts_at ;
  while (state_next_rcpt(&m, s, &pos, &r))
  {
    size_t rl = state_result_len(&r), al = strlen(r.addr), ll = strlen(r.localname), at = sa.len ;
    FUZZ_ASSERT(r.offset < len && s[r.offset] == 'R' && pos <= len) ;
    FUZZ_ASSERT(r.attempts <= 9999 && rl <= STATE_RESULT_MAX) ;
    FUZZ_ASSERT(r.addr > s && r.addr + al < s + len && r.localname + ll < s + len) ;
    FUZZ_ASSERT(state_put_rcpt(&sa, r.channel, r.addr, al, r.localname, ll)) ;
    /* the fixed part rewritten in place, as send does */
    state_fmt_fixed(sa.s + at, r.status, r.channel, r.attempts, r.lasttry, r.result, rl) ;
    n++ ;
  }
  FUZZ_ASSERT(n == m.nrcpts) ;
  FUZZ_ASSERT(stralloc_0(&sa)) ;
  /* the same bytes, but where the parser reads loosely: the result's
     bytes are any (state_fmt_fixed makes them printable) and the
     numbers of the header may have leading zeros or a plus sign */
  {
    state_msg m2 ;
    FUZZ_ASSERT(state_parse(&m2, sa.s, sa.len)) ;
    FUZZ_ASSERT(m2.uid == m.uid && m2.size == m.size && m2.nrcpts == m.nrcpts && !strcmp(m2.sender, m.sender)) ;
    if (sa.len == len)
    {
      size_t p1 = m.rcpts_at, p2 = m2.rcpts_at ;
      state_rcpt a, b ;
      while (state_next_rcpt(&m, s, &p1, &a))
      {
        FUZZ_ASSERT(state_next_rcpt(&m2, sa.s, &p2, &b)) ;
        FUZZ_ASSERT(a.status == b.status && a.channel == b.channel && a.attempts == b.attempts && a.lasttry == b.lasttry) ;
        FUZZ_ASSERT(!strcmp(a.addr, b.addr) && !strcmp(a.localname, b.localname)) ;
      }
    }
  }
  stralloc_free(&sa) ;
}

static void todo (char const *s, size_t len)
{
  qread_msg m ;
  qread_rcpt r ;
  route rt = ROUTE_ZERO ;
  size_t pos = 0 ;
  unsigned int n = 0 ;
  memset(&m, 0, sizeof m) ;
  if (!qread_todo_parse(&m, s, len)) return ;
  m.unsorted = 1 ;
  m.s = s ;
  FUZZ_ASSERT(m.nrcpts >= 1 && m.sender >= s && m.sender < s + len) ;
  while (qread_next_rcpt(&m, &pos, &rt, &r))
  {
    FUZZ_ASSERT(r.addr > s && r.addr + strlen(r.addr) < s + len) ;
    FUZZ_ASSERT(r.status == QREAD_UNSORTED && r.resultlen == 0) ;
    n++ ;
  }
  FUZZ_ASSERT(n == m.nrcpts) ;
  stralloc_free(&rt.prefix) ;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  /* an empty home: no locals.cdb, every domain remote */
  fuzz_home() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  /* a read past the end is caught, in skalibs too */
  char *s = fuzz_guard(data, size) ;
  state(s, size) ;
  todo(s, size) ;
  return 0 ;
}
