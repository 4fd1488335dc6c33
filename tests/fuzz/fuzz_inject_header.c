/* inject, as main runs it (src/inject, linked as objects, main renamed:
   it is being changed elsewhere): the command line, the header section
   (inject_header_read), the recipients, the added fields, the message
   as queued (queue-inject replaced by a recorder). Input: the arguments
   after "inject", each ended by a NUL, then one more NUL, then the
   message on fd 0. Checked: the envelope is valid, its recipients
   sorted and unique; the header section queued is field lines and their
   continuations only, without Bcc: or Return-Path:, with From:, Date:
   and Message-ID:; no CR LF is left; the message ends with a newline. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "envelope.h"
#include "inject.h"
#include "qexit.h"
#include "qinject.h"
#include "fuzz.h"

#define ARGS_MAX 16

static stralloc msg = STRALLOC_ZERO ;
static unsigned int queued ;
/* "\r\r\n" is a bare CR, then a line end: "\r\n" is queued, rightly;
   so is "\r\r" at the end. A last line ending in CR without LF loses
   that CR, header or body
   (corpus/inject_header/regress-cr-at-eof) */
static int known_cr_at_eof ;

int qinject_start (qinject *q, int msgfd, int errfd)
{
  (void)msgfd ; (void)errfd ;
  memset(q, 0, sizeof *q) ;
  q->msg = q->env = q->sock = -1 ;
  msg.len = 0 ;
  return 1 ;
}

size_t qinject_write (qinject *q, char const *s, size_t len)
{
  (void)q ;
  FUZZ_ASSERT(stralloc_catb(&msg, s, len)) ;
  return len ;
}

static int fieldline (char const *s, size_t n)
{
  size_t i = 0 ;
  while (i < n && s[i] > 32 && s[i] < 127 && s[i] != ':') i++ ;
  if (!i) return 0 ;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++ ;
  return i < n && s[i] == ':' ;
}

/* the field's name (before blanks and ':') is name */
static int named (char const *s, size_t n, char const *name)
{
  size_t k = strlen(name) ;
  if (n < k || strncasecmp(s, name, k)) return 0 ;
  while (k < n && (s[k] == ' ' || s[k] == '\t')) k++ ;
  return k < n && s[k] == ':' ;
}

int qinject_finish (qinject *q, char const *env, size_t envlen)
{
  env_view v ;
  size_t pos = 0, p = 0 ;
  char const *r, *last = 0 ;
  unsigned int from = 0, date = 0, msgid = 0 ;
  (void)q ;
  FUZZ_ASSERT(env) ;
  FUZZ_ASSERT(env_parse(&v, env, envlen) == ENV_OK) ;
  while ((r = env_next_rcpt(&v, &p)))
  {
    FUZZ_ASSERT(strchr(r, '@')) ;
    /* sorted without case, then exactly, and each address once */
    if (last) FUZZ_ASSERT(strcasecmp(last, r) < 0 || (!strcasecmp(last, r) && strcmp(last, r) < 0)) ;
    last = r ;
  }
  FUZZ_ASSERT(msg.len && msg.s[msg.len - 1] == '\n') ;
  if (!known_cr_at_eof) FUZZ_ASSERT(!fuzz_find(msg.s, msg.len, "\r\n", 2)) ;
  /* the header section: to the first empty line */
  while (pos < msg.len)
  {
    char const *l = msg.s + pos ;
    char const *nl = memchr(l, '\n', msg.len - pos) ;
    size_t n = (size_t)(nl - l) ;
    if (!n) break ;
    if (l[0] == ' ' || l[0] == '\t') FUZZ_ASSERT(pos) ;
    else
    {
      FUZZ_ASSERT(fieldline(l, n)) ;
      FUZZ_ASSERT(!named(l, n, "bcc") && !named(l, n, "return-path")) ;
      from += named(l, n, "from") ;
      date += named(l, n, "date") ;
      msgid += named(l, n, "message-id") ;
    }
    pos += n + 1 ;
  }
  FUZZ_ASSERT(from && date && msgid) ;
  queued++ ;
  return 0 ;
}

extern int fuzz_unused_main_inject (int, char const *const *) ;

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  fuzz_home() ;
  fuzz_file("control/me", "host.example.test\n") ;
  fuzz_file("control/defaultdomain", "example.test\n") ;
  setenv("MAILUSER", "demo", 1) ;
  unsetenv("MAILNAME") ;
  unsetenv("NAME") ;
  fuzz_quiet() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char const *argv[ARGS_MAX + 2] ;
  char *s ;
  size_t pos = 0 ;
  int argc = 1, r = 0, mode = 0 ;
  char *in ;
  size_t n ;
  /* the arguments: NUL-ended, an empty one ends them */
  s = fuzz_guard(data, size) ;
  argv[0] = "inject" ;
  while (pos < size && s[pos] && argc <= ARGS_MAX)
  {
    char *z = memchr(s + pos, 0, size - pos) ;
    if (!z) return 0 ;
    argv[argc++] = s + pos ;
    pos = (size_t)(z - s) + 1 ;
  }
  if (pos >= size || s[pos]) return 0 ;
  pos++ ;
  argv[argc] = 0 ;
  for (int i = 1 ; i < argc ; i++) if (argv[i][0] == '-' && strchr(argv[i], 'b')) mode = 1 ;
  queued = 0 ;
  /* a bare CR stays, so "\r\r\n" gives "\r\n" as it should */
  known_cr_at_eof = fuzz_find(data + pos, size - pos, "\r\r\n", 3)
    || (size - pos >= 2 && data[size - 1] == '\r' && data[size - 2] == '\r') ;
  fuzz_input_fd(0, data + pos, size - pos) ;
  if (!setjmp(fuzz_jmp))
  {
    fuzz_armed = 1 ;
    r = fuzz_unused_main_inject(argc, argv) ;
    fuzz_armed = 0 ;
    /* a message is queued, unless a mode option (-bp, -bs) did
       something else */
    FUZZ_ASSERT(r == 0 && (queued == 1 || (!queued && mode))) ;
  }
  else
  {
    /* refused: bad usage, bad data, as sendmail's callers expect; or
       another program run in its place (a mode such as -bs, -bp) */
    FUZZ_ASSERT(fuzz_exitcode == INJECT_EUSAGE || fuzz_exitcode == INJECT_EDATA || fuzz_exitcode == FUZZ_EXECED) ;
    FUZZ_ASSERT(!queued) ;
  }
  /* what a refused message left unread in inject's buffer */
  while ((n = inject_in_avail(&in))) inject_in_consume(n) ;
  alarm(0) ;
  return 0 ;
}

/* inject's memory lives until its exit: here that is every run */
int __lsan_is_turned_off (void) ;
int __lsan_is_turned_off (void) { return 1 ; }
