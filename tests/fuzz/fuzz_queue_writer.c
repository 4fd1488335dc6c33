/* queue-writer's reading of a client (src/queue-writer/qw_read.c): the
   netstrings of a message (chunks, "0:,", the envelope) from any local
   client. The queue files are memory files (qwrite_intake replaced),
   qw_fail records its code. Checked against a reference reading of the
   same framing: a message is complete exactly when the input is well
   framed, within its bounds (control/databytes 1000 here) and its
   envelope valid; then the body file holds the chunks' bytes and the
   intake file the info fields and the envelope to its final NUL. */
#include <string.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "envelope.h"
#include "qwrite.h"
#include "queue-writer.h"
#include "fuzz.h"

#define DATABYTES 1000

unsigned long qw_databytes = DATABYTES ;
unsigned int qw_sub = 0 ;
static int failed ;

void qw_fail (qw_client *c, int code)
{
  FUZZ_ASSERT(code > 0 && !failed) ;
  failed = code ;
  c->fd = -1 ;
}

int qwrite_intake (qwrite_msg *m, char const *s, size_t len)
{
  FUZZ_ASSERT(m->intake >= 0 && write(m->intake, s, len) == (ssize_t)len) ;
  return 1 ;
}

/* the reference: 1 if s is a whole message, its body and envelope in
   body and env */
static int reference (char const *s, size_t n, stralloc *body, stralloc *env)
{
  size_t i = 0, total = 0 ;
  for (int inenv = 0 ;; )
  {
    size_t len = 0, digits = 0, max = inenv ? ENV_BYTES_MAX : QW_CHUNK_MAX ;
    while (i < n && s[i] >= '0' && s[i] <= '9')
    {
      len = len * 10 + (size_t)(s[i++] - '0') ;
      digits++ ;
      if (len > max) return 0 ;
    }
    if (i >= n || s[i] != ':' || !digits) return 0 ;
    i++ ;
    if (n - i < len) return 0 ;
    if (inenv)
    {
      env_check c = ENV_CHECK_ZERO ;
      size_t used = env_check_feed(&c, s + i, len) ;
      if (c.error != ENV_OK || env_check_end(&c) != ENV_OK) return 0 ;
      FUZZ_ASSERT(stralloc_catb(env, s + i, used)) ;
    }
    else
    {
      total += len ;
      if (total > DATABYTES) return 0 ;
      FUZZ_ASSERT(stralloc_catb(body, s + i, len)) ;
    }
    i += len ;
    if (i >= n || s[i] != ',') return 0 ;
    i++ ;
    if (inenv) return 1 ;
    if (!len) inenv = 1 ;
  }
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  fuzz_quiet() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  qw_client c ;
  stralloc body = STRALLOC_ZERO, env = STRALLOC_ZERO, info = STRALLOC_ZERO ;
  int ready, want ;
  memset(&c, 0, sizeof c) ;
  fuzz_input_fd(3, data, size) ;
  fuzz_output_fd(4) ;
  fuzz_output_fd(5) ;
  c.fd = 3 ;
  c.uid = 1000 ;
  c.state = Q_LEN ;
  c.ec = (env_check)ENV_CHECK_ZERO ;
  c.m = (qwrite_msg)QWRITE_MSG_ZERO ;
  c.m.body = 4 ;
  c.m.intake = 5 ;
  failed = 0 ;
  while (qw_read(&c) && c.state != Q_READY) ;
  ready = c.state == Q_READY ;
  FUZZ_ASSERT(ready != !!failed) ;
  want = reference((char const *)data, size, &body, &env) ;
  FUZZ_ASSERT(ready == want) ;
  if (ready)
  {
    size_t n ;
    char const *got = fuzz_output(4, &n) ;
    FUZZ_ASSERT(n == body.len && !memcmp(got, body.s, n)) ;
    FUZZ_ASSERT(qwrite_info(&info, 1000, getpid())) ;
    got = fuzz_output(5, &n) ;
    FUZZ_ASSERT(n == info.len + env.len && !memcmp(got, info.s, info.len) && !memcmp(got + info.len, env.s, env.len)) ;
  }
  stralloc_free(&body) ;
  stralloc_free(&env) ;
  stralloc_free(&info) ;
  return 0 ;
}
