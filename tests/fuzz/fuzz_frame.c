/* The framed records of send's pipes (src/lib/frame_*) and the job
   records the spawners parse (spawner_parse): records read from a
   stream in pieces give the stream back, each ends with its empty
   field and holds no other; a parsed job points into its record.
   Input: byte 0 picks the record bound and with_local, then the stream. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include "frame.h"
#include "queue.h"
#include "spawner.h"
#include "fuzz.h"

static void job (char const *s, size_t len, int with_local)
{
  spawner_job v ;
  enum spawner_parse_e e ;
  if (!setjmp(fuzz_jmp))
  {
    fuzz_armed = 1 ;
    e = spawner_parse(&v, s, len, with_local) ;
    fuzz_armed = 0 ;
  }
  else
  {
    /* only a record without a usable J field is refused this way: a
       broken protocol between our programs, 101 */
    FUZZ_ASSERT(fuzz_exitcode == 101) ;
    FUZZ_ASSERT(s[0] != 'J' || !s[1] || strlen(s) > SPAWNER_FIELD_MAX) ;
    return ;
  }
  FUZZ_ASSERT(v.id == s + 1 && v.n <= SPAWNER_RCPT_MAX && v.n <= v.nt) ;
  if (e != SPAWNER_OK) return ;
  FUZZ_ASSERT(queue_id_valid(v.msgid) && v.msgid > s && v.msgid < s + len) ;
  FUZZ_ASSERT(v.sender > s && v.sender < s + len && v.n == v.nt) ;
  for (unsigned int i = 0 ; i < v.n ; i++)
  {
    FUZZ_ASSERT(v.addr[i] > s && v.addr[i] + strlen(v.addr[i]) < s + len && strlen(v.addr[i]) <= ADDR_MAX) ;
    FUZZ_ASSERT(v.addr[i][-1] == 'T') ;
    if (with_local) FUZZ_ASSERT(v.local[i][-1] == 'L' && v.local[i] > v.addr[i]) ;
  }
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static char in[64] ;
  buffer b ;
  stralloc sa = STRALLOC_ZERO ;
  size_t max, done = 0 ;
  int with_local ;
  if (!size) return 0 ;
  max = 2 + (data[0] >> 1) * 16 ;
  with_local = data[0] & 1 ;
  data++ ; size-- ;
  fuzz_input_fd(0, data, size) ;
  /* a small buffer: records come in several reads */
  buffer_init(&b, &buffer_read, 0, in, 2 + size % (sizeof in - 1)) ;  /* a cbuffer holds one byte less */
  for (;;)
  {
    size_t pos = 0, fields = 0 ;
    char const *f ;
    int r = frame_get(&b, &sa, max) ;
    if (r < 0)
    {
      FUZZ_ASSERT(errno == EPIPE || errno == EMSGSIZE) ;
      if (errno == EMSGSIZE) FUZZ_ASSERT(sa.len == max) ;
      else FUZZ_ASSERT(done + sa.len == size) ;
      break ;
    }
    FUZZ_ASSERT(r == 1 && sa.len <= max && sa.len >= 1) ;
    FUZZ_ASSERT(!memcmp(sa.s, data + done, sa.len)) ;
    FUZZ_ASSERT(!sa.s[sa.len - 1] && (sa.len == 1 || !sa.s[sa.len - 2])) ;
    FUZZ_ASSERT(sa.len == 1 || !fuzz_find(sa.s, sa.len - 1, "\0\0", 2)) ;
    FUZZ_ASSERT(sa.s[0] || sa.len == 1) ;
    while ((f = frame_field(sa.s, sa.len, &pos))) { FUZZ_ASSERT(*f) ; fields += strlen(f) + 1 ; }
    FUZZ_ASSERT(fields == sa.len - 1 && pos == sa.len - 1) ;
    if (sa.len > 1) job(fuzz_guard(sa.s, sa.len), sa.len, with_local) ;
    done += sa.len ;
    sa.len = 0 ;
  }
  stralloc_free(&sa) ;
  return 0 ;
}


int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  fuzz_quiet() ;
  return 0 ;
}
