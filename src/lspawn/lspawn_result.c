/* A recipient's result: the child's output (its first LSPAWN_TEXT_MAX
   bytes) and exit code; a job's result record once all are final. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "lspawn.h"
#include "spawner.h"

/* a pipe holds at most 1 MiB (Linux's default pipe-max-size): what an
   exited child wrote fits in this many reads of JUNK_MAX; more can only
   come from a grandchild still writing, and is dropped with the pipe */
#define JUNK_MAX 16384
#define DRAIN_READS (1 + 1048576 / JUNK_MAX)

static stralloc out = STRALLOC_ZERO ;

static void put_field (char status, char const *s, size_t len)
{
  size_t at = out.len ;
  if (!stralloc_catb(&out, &status, 1) || !stralloc_catb(&out, s, len) || !stralloc_0(&out))
    strerr_diefu1sys(111, "allocate") ;
  /* one line per field, and never a NUL inside it */
  for (size_t i = at + 1 ; i < out.len - 1 ; i++)
  {
    unsigned char c = (unsigned char)out.s[i] ;
    if (c == '\n') out.s[i] = '/' ;
    else if (c < 32 || c == 127) out.s[i] = '_' ;
  }
}

static void send_record (void)
{
  spawner_put(out.s, out.len) ;
  out.len = 0 ;
}

static void put_id (char const *id)
{
  if (!stralloc_catb(&out, "J", 1) || !stralloc_cats(&out, id) || !stralloc_0(&out))
    strerr_diefu1sys(111, "allocate") ;
}

static void report (unsigned int j)
{
  lspawn_job const *job = lspawn_jobs + j ;
  put_id(job->id) ;
  for (unsigned int i = 0 ; i < job->n ; i++)
  {
    lspawn_rcpt const *r = lspawn_rcpts + job->rcpt[i] ;
    put_field(r->status, r->text, r->len) ;
  }
  send_record() ;
  lspawn_job_free(j) ;
}

static void final (unsigned int r)
{
  lspawn_job *job = lspawn_jobs + lspawn_rcpts[r].job ;
  if (!--job->pending) report(lspawn_rcpts[r].job) ;
}

static void text_cat (lspawn_rcpt *r, char const *s)
{
  size_t n ;
  if (!s) return ;
  n = strlen(s) ;
  if (n > LSPAWN_TEXT_MAX - r->len) n = LSPAWN_TEXT_MAX - r->len ;
  memcpy(r->text + r->len, s, n) ;
  r->len += n ;
}

void lspawn_final (unsigned int r, char status, char const *s1, char const *s2, char const *s3)
{
  lspawn_rcpt *rc = lspawn_rcpts + r ;
  rc->status = status ;
  rc->len = 0 ;
  text_cat(rc, s1) ;
  text_cat(rc, s2) ;
  if (s3) { text_cat(rc, ": ") ; text_cat(rc, s3) ; }
  final(r) ;
}

/* One read per readiness, so no child starves the others; past
   LSPAWN_TEXT_MAX the output is read and dropped. Returns 0 at EOF or
   when nothing is left. */
static int read_once (lspawn_rcpt *r)
{
  char junk[JUNK_MAX] ;
  ssize_t n ;
  if (r->len < LSPAWN_TEXT_MAX) n = fd_read(r->fd, r->text + r->len, LSPAWN_TEXT_MAX - r->len) ;
  else n = fd_read(r->fd, junk, sizeof junk) ;
  if (n > 0)
  {
    if (r->len < LSPAWN_TEXT_MAX) r->len += (size_t)n ;
    return 1 ;
  }
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    strerr_warnwu1sys("read a child's output") ;
  if (n == 0 || errno != EAGAIN) { fd_close(r->fd) ; r->fd = -1 ; }
  return 0 ;
}

void lspawn_read (unsigned int r)
{
  read_once(lspawn_rcpts + r) ;
}

static void set_default (lspawn_rcpt *r, int wstat)
{
  char fmt[INT_FMT] ;
  if (WIFSIGNALED(wstat))
  {
    fmt[int_fmt(fmt, WTERMSIG(wstat))] = 0 ;
    text_cat(r, "4.3.0 local killed by signal ") ;
    text_cat(r, fmt) ;
    return ;
  }
  fmt[int_fmt(fmt, WEXITSTATUS(wstat))] = 0 ;
  if (r->status == 'K') text_cat(r, "delivered") ;
  else if (r->status == 'D') text_cat(r, "5.0.0 local failed permanently, without a reason") ;
  else { text_cat(r, "4.3.0 local failed temporarily, exit code ") ; text_cat(r, fmt) ; }
}

void lspawn_reaped (unsigned int r, int wstat)
{
  lspawn_rcpt *rc = lspawn_rcpts + r ;
  rc->pid = 0 ;
  if (rc->fd >= 0)
  {
    for (unsigned int i = 0 ; i < DRAIN_READS && read_once(rc) ; i++) ;
    if (rc->fd >= 0) { fd_close(rc->fd) ; rc->fd = -1 ; }
  }
  if (WIFEXITED(wstat) && (!WEXITSTATUS(wstat) || WEXITSTATUS(wstat) == 99)) rc->status = 'K' ;
  else if (WIFEXITED(wstat) && WEXITSTATUS(wstat) == 100) rc->status = 'D' ;
  else rc->status = 'Z' ;
  while (rc->len && rc->text[rc->len - 1] == '\n') rc->len-- ;
  if (!rc->len) set_default(rc, wstat) ;
  final(r) ;
}
