/* cyclog's line splitter (src/cyclog/cyclog_line.c), its writer and
   rotation replaced by a memory buffer: every record is the stamp, at
   most linemax bytes of one input line (then "..." if it was cut) and a
   newline; the records give back the input's lines in order. Input:
   byte 0 picks linemax (1..64, small so that cutting happens), bytes 1
   and 2 how the input is cut into reads, the rest is what is read. */
#include <stdlib.h>
#include <string.h>
#include <skalibs/buffer.h>
#include "cyclog.h"
#include "fuzz.h"

struct cyclog_s cyclog_state ;
static char outmem[CYCLOG_OUT + 64 + CYCLOG_OVERHEAD + 1] ;
static char got[1 << 22] ;  /* 16 KiB of newlines make 16 Ki records of a stamp each */
static size_t gotlen ;
static unsigned int rotations ;

static void take (void)
{
  size_t n = buffer_len(&cyclog_state.out) ;
  FUZZ_ASSERT(gotlen + n <= sizeof got) ;
  buffer_getnofill(&cyclog_state.out, got + gotlen, n) ;
  gotlen += n ;
}

void cyclog_flush (void) { take() ; }
void cyclog_rotate (void) { take() ; rotations++ ; cyclog_state.cursize = 0 ; }

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char part[64] ;
  size_t linemax, step, pos, in, expect = 0 ;
  unsigned int lines = 0 ;
  char *want ;
  if (size < 3 || size > 1 << 14) return 0 ;
  linemax = 1 + data[0] % 64 ;
  step = 1 + (data[1] | data[2] << 8) % 300 ;
  data += 3 ; size -= 3 ;
  memset(&cyclog_state, 0, sizeof cyclog_state) ;
  cyclog_state.linemax = linemax ;
  cyclog_state.smax = 4096 ;
  cyclog_state.part = part ;
  buffer_init(&cyclog_state.out, &buffer_write, -1, outmem, CYCLOG_OUT + linemax + CYCLOG_OVERHEAD + 1) ;
  memset(cyclog_state.stamp, '@', TIMESTAMP) ;
  cyclog_state.stamp[TIMESTAMP] = ' ' ;
  gotlen = 0 ; rotations = 0 ;
  for (in = 0 ; in < size ; in += step)
    cyclog_lines((char const *)data + in, size - in < step ? size - in : step) ;
  /* at the end, as cyclog does */
  if (cyclog_state.partlen) cyclog_record("", 0, 0) ;
  take() ;
  /* what the records must hold: each line cut to linemax */
  want = malloc(size / 1 * (TIMESTAMP + 5) + size + 16) ;
  for (pos = 0 ; pos < size ;)
  {
    uint8_t const *nl = memchr(data + pos, '\n', size - pos) ;
    size_t n = nl ? (size_t)(nl - (data + pos)) : size - pos ;
    memcpy(want + expect, cyclog_state.stamp, TIMESTAMP + 1) ; expect += TIMESTAMP + 1 ;
    memcpy(want + expect, data + pos, n > linemax ? linemax : n) ; expect += n > linemax ? linemax : n ;
    if (n > linemax) { memcpy(want + expect, "...", 3) ; expect += 3 ; }
    want[expect++] = '\n' ;
    lines++ ;
    pos += n + 1 ;
  }
  FUZZ_ASSERT(gotlen == expect) ;
  FUZZ_ASSERT(!memcmp(got, want, expect)) ;
  FUZZ_ASSERT(cyclog_state.partlen == 0 && cyclog_state.partlen <= linemax) ;
  (void)lines ;
  free(want) ;
  return 0 ;
}
