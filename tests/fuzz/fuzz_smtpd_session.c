/* Whole smtpd sessions (src/smtpd, linked as objects, main renamed: its
   input handling is being changed elsewhere): the input is what a client
   sends, on fd 0; replies are read back from fd 1, log lines caught at
   allwrite(2, ...), and queue-inject replaced by a recorder (qinject_*).
   Checked: every reply line is well formed; every log line is one line
   of printable bytes; a queued message has a valid envelope and no CR
   or NUL; each "250 ok" is one queued message; and DATA ends only at
   the first <CR><LF>.<CR><LF> after it (no smuggling), read from where
   the input stood before and after smtpd_data (wrapped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "envelope.h"
#include "qexit.h"
#include "qinject.h"
#include "route.h"
#include "smtpd.h"
#include "fuzz.h"

static stralloc body = STRALLOC_ZERO ;
static unsigned int accepted, datas ;
static uint8_t const *input ;
static size_t inputlen ;
static int logging ;

int qinject_start (qinject *q, int msgfd, int errfd)
{
  (void)msgfd ; (void)errfd ;
  memset(q, 0, sizeof *q) ;
  q->msg = q->env = q->sock = -1 ;
  memcpy(q->id, "fuzz", 5) ;
  body.len = 0 ;
  return 1 ;
}

size_t qinject_write (qinject *q, char const *s, size_t len)
{
  (void)q ;
  FUZZ_ASSERT(stralloc_catb(&body, s, len)) ;
  return len ;
}

int qinject_finish (qinject *q, char const *env, size_t envlen)
{
  env_view v ;
  (void)q ;
  if (!env) return QX_ENVFORMAT ;  /* what queue-inject says without one */
  FUZZ_ASSERT(env_parse(&v, env, envlen) == ENV_OK) ;
  FUZZ_ASSERT(v.nrcpts >= 1 && v.nrcpts <= smtpd_config.maxrcpt) ;
  FUZZ_ASSERT(body.len >= 15 && !memcmp(body.s, "Received: from ", 15)) ;
  FUZZ_ASSERT(body.s[body.len - 1] == '\n') ;
  FUZZ_ASSERT(!memchr(body.s, '\r', body.len) && !memchr(body.s, 0, body.len)) ;
  accepted++ ;
  return 0 ;
}

extern size_t __real_allwrite (int, char const *, size_t) ;
size_t __wrap_allwrite (int fd, char const *s, size_t n) ;
size_t __wrap_allwrite (int fd, char const *s, size_t n)
{
  if (fd != 2 || !logging) return __real_allwrite(fd, s, n) ;
  FUZZ_ASSERT(n >= 2 && n <= 2048 && s[n - 1] == '\n') ;
  for (size_t i = 0 ; i + 1 < n ; i++) FUZZ_ASSERT(s[i] >= 32 && s[i] < 127) ;
  return n ;
}

/* where the client's input stands: read from fd 0, less what is buffered */
static size_t inpos (void)
{
  char *s ;
  size_t avail = smtpd_avail(&s) ;
  off_t off = lseek(0, 0, SEEK_CUR) ;
  FUZZ_ASSERT(off >= 0 && (size_t)off >= avail) ;
  return (size_t)off - avail ;
}

extern void __real_smtpd_data (stralloc *, unsigned int, char const *, int) ;
void __wrap_smtpd_data (stralloc *env, unsigned int nrcpt, char const *helo, int esmtp) ;
void __wrap_smtpd_data (stralloc *env, unsigned int nrcpt, char const *helo, int esmtp)
{
  size_t before = inpos(), after, from ;
  uint8_t const *end ;
  __real_smtpd_data(env, nrcpt, helo, esmtp) ;
  after = inpos() ;
  datas++ ;
  FUZZ_ASSERT(after >= before && after <= inputlen) ;
  if (after == before) return ;  /* refused before 354 */
  /* the first CR LF . CR LF, the DATA line's own CR LF included, ends it */
  from = before >= 2 ? before - 2 : 0 ;
  end = fuzz_find(input + from, after - from, "\r\n.\r\n", 5) ;
  if (end) FUZZ_ASSERT((size_t)(end - input) + 5 == after) ;
  /* or an empty message right after a DATA line ended by a bare LF */
  else FUZZ_ASSERT(after - before == 3 && !memcmp(input + before, ".\r\n", 3) && before && input[before - 1] == '\n') ;
}

static unsigned int count (char const *s, size_t n, char const *what)
{
  unsigned int k = 0 ;
  size_t m = strlen(what) ;
  for (char const *p = s ; (p = fuzz_find(p, n - (size_t)(p - s), what, m)) ; p += m) k++ ;
  return k ;
}

/* "250" lines that name the queued message (the recorder's id "fuzz") */
static unsigned int oks (char const *s, size_t n)
{
  unsigned int k = 0 ;
  size_t pos = 0 ;
  while (pos < n)
  {
    char const *crlf = fuzz_find(s + pos, n - pos, "\r\n", 2) ;
    size_t len = crlf ? (size_t)(crlf - (s + pos)) : n - pos ;
    if (len > 4 && !memcmp(s + pos, "250 ", 4) && fuzz_find(s + pos, len, "fuzz", 4)) k++ ;
    pos += len + 2 ;
  }
  return k ;
}

static void replies (char const *s, size_t n)
{
  size_t pos = 0 ;
  int more = 0 ;
  char code[3] = { 0, 0, 0 } ;
  FUZZ_ASSERT(n >= 6 && !memcmp(s, "220 ", 4)) ;
  FUZZ_ASSERT(s[n - 2] == '\r' && s[n - 1] == '\n') ;
  while (pos < n)
  {
    char const *crlf = fuzz_find(s + pos, n - pos, "\r\n", 2) ;
    size_t len ;
    FUZZ_ASSERT(crlf) ;
    len = (size_t)(crlf - (s + pos)) ;
    FUZZ_ASSERT(len >= 4 && len + 2 <= SMTPD_REPLY_MAX) ;
    FUZZ_ASSERT(s[pos] >= '2' && s[pos] <= '5' && s[pos + 1] >= '0' && s[pos + 1] <= '9' && s[pos + 2] >= '0' && s[pos + 2] <= '9') ;
    FUZZ_ASSERT(s[pos + 3] == ' ' || s[pos + 3] == '-') ;
    if (more) FUZZ_ASSERT(!memcmp(code, s + pos, 3)) ;
    for (size_t i = 0 ; i < len ; i++) FUZZ_ASSERT(s[pos + i] >= 32 && s[pos + i] < 127) ;
    more = s[pos + 3] == '-' ;
    memcpy(code, s + pos, 3) ;
    pos += len + 2 ;
  }
  FUZZ_ASSERT(!more) ;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  char const *what = 0 ;
  (void)argc ; (void)argv ;
  fuzz_home() ;
  fuzz_file("control/me", "mx.example.test\n") ;
  fuzz_file("control/maxbadcommands", "50\n") ;
  fuzz_file("control/maxrcpt", "20\n") ;
  fuzz_file("control/databytes", "100000\n") ;
  fuzz_file("control/maxhops", "5\n") ;
  fuzz_cdb("control/rcpthosts.cdb", "example.test", "", (char *)0) ;
  fuzz_cdb(ROUTE_LOCALS, "example.test", "", (char *)0) ;
  fuzz_cdb("control/users.cdb", "demo", "demo:1000:1000:/home/demo", (char *)0) ;
  /* 127.0.0.1: never made to wait for its greeting (early talkers) */
  setenv("TCPREMOTEIP", "127.0.0.1", 1) ;
  setenv("TCPLOCALIP", "127.0.0.1", 1) ;
  unsetenv("RELAYCLIENT") ;
  smtpd_conf_env() ;
  if (!smtpd_conf_read(&what)) { fuzz_fail(what, __FILE__, __LINE__) ; }
  fuzz_quiet() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char const *out ;
  size_t outlen ;
  unsigned int d354 ;
  input = data ; inputlen = size ;
  accepted = datas = 0 ;
  fuzz_input_fd(0, data, size) ;
  fuzz_output_fd(1) ;
  logging = 1 ;
  if (!setjmp(fuzz_jmp))
  {
    fuzz_armed = 1 ;
    smtpd_io_init() ;
    smtpd_session() ;
    fuzz_armed = 0 ;
  }
  /* else it ended by _exit: client gone in DATA, too many bad commands */
  logging = 0 ;
  smtpd_flush() ;
  out = fuzz_output(1, &outlen) ;
  /* FUZZ_VERBOSE=1: the replies on stderr, to see what an input does */
  if (getenv("FUZZ_VERBOSE")) { fwrite(out, 1, outlen, stderr) ; fprintf(stderr, "queued: %u\n", accepted) ; }
  replies(out, outlen) ;
  d354 = count(out, outlen, "\r\n354 ") ;
  FUZZ_ASSERT(datas <= d354 && d354 <= datas + 1) ;
  FUZZ_ASSERT(accepted == oks(out, outlen)) ;
  return 0 ;
}
