/* log-summary's reading of log lines (src/log-summary/summary_line.c,
   with the rest of log-summary linked, main renamed): the input's lines,
   each with a stamp a second after the one before, then the text report
   (to a memory file). Checked: no count passes the number of lines, the
   tables stay within their bounds, and the report ends with a newline and
   holds no NUL. */
#include <string.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include "log-summary.h"
#include "fuzz.h"

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  logsum_series_init(SUMMARY_WIDTH_DEFAULT) ;
  fuzz_quiet() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static char line[SUMMARY_LINE_MAX + 1] ;
  uint64_t t = 1764000000ULL * NS, lines = 0 ;
  size_t pos = 0, n ;
  char const *out ;
  struct summary *z = &logsum_totals ;
  memset(z, 0, sizeof *z) ;
  z->busy = -1 ;
  while (pos < size)
  {
    uint8_t const *nl = memchr(data + pos, '\n', size - pos) ;
    size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos ;
    if (len > SUMMARY_LINE_MAX) len = SUMMARY_LINE_MAX ;
    memcpy(line, data + pos, len) ;
    line[len] = 0 ;
    logsum_summary_line(t, line) ;
    lines++ ;
    t += NS ;
    pos += len + 1 ;
  }
  z->lines = lines ;
  FUZZ_ASSERT(z->connections <= lines && z->received <= lines && z->rejected <= lines && z->refused <= lines) ;
  FUZZ_ASSERT(z->queued <= lines && z->starts <= lines && z->delivered <= lines && z->deferred <= lines) ;
  FUZZ_ASSERT(z->failed <= lines && z->bounces <= lines && z->ended <= lines) ;
  FUZZ_ASSERT(logsum_dest_count() <= SUMMARY_DEST_MAX) ;
  fuzz_output_fd(1) ;
  logsum_report_text() ;
  out = fuzz_output(1, &n) ;
  FUZZ_ASSERT(n && out[n - 1] == '\n') ;
  /* a control byte of a foreign log never reaches the report: only
     line ends (corpus/logsum/regress-control-bytes) */
  for (size_t i = 0 ; i < n ; i++) FUZZ_ASSERT((unsigned char)out[i] >= 32 || out[i] == '\n') ;
  return 0 ;
}
