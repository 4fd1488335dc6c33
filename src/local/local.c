/* local: one delivery of one message to one recipient, as the
   recipient's account (lspawn runs it). Message on fd 0, a seekable
   file; cwd is the recipient's home. Follows the home's .postern
   instructions (maildir, mbox, program, forward through queue-inject);
   prints one line on fd 1; exits 0, 100 or 111. With -w, a worker
   taking many deliveries from lspawn over fd 0 (local_worker.c). See
   local(8). */

#include <errno.h>
#include <string.h>
#include <signal.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "addr.h"
#include "control.h"
#include "local.h"

#define USAGE "local [ -a addresses ] user home localname ext domain sender recipient | local -w"
/* instructions acted on per run, forward addresses included: bounds the
   programs run and the envelope of a forward */
#define LINES_MAX 1000

static local_ctx ctx ;
static stralloc text = STRALLOC_ZERO, done = STRALLOC_ZERO, fwd = STRALLOC_ZERO ;
static unsigned int nlines, ndone, nfiles, nfwd, nprogs ;
/* Delivered-To fields of the message, and how many may be forwarded on */
static unsigned long generations, maxforwards ;

/* the line: the failure's text, or what was done, into *line */
static stralloc *line_out ;
static int finish (int code)
{
  stralloc *t = &text ;
  char num[3 * UINT_FMT + 8] ;
  size_t n ;
  if (code == LOCAL_OK || code == LOCAL_STOP)
  {
    t = &done ;
    if (ndone != 1)
    {
      n = uint_fmt(num, nfiles) ; num[n++] = '+' ;
      n += uint_fmt(num + n, nfwd) ; num[n++] = '+' ;
      n += uint_fmt(num + n, nprogs) ; num[n++] = ':' ; num[n++] = ' ' ;
      if (!stralloc_insertb(&done, 0, "did ", 4) || !stralloc_insertb(&done, 4, num, n)) done.len = 0 ;
    }
  }
  if (!t->len && !stralloc_cats(t, code == LOCAL_OK || code == LOCAL_STOP ? "delivered" : "4.3.0 out of memory")) t->len = 0 ;
  if (t->len > LOCAL_TEXT_MAX) t->len = LOCAL_TEXT_MAX ;
  for (size_t i = 0 ; i < t->len ; i++) if (t->s[i] == '\n') t->s[i] = ' ' ;
  if (!stralloc_copyb(line_out, t->s, t->len)) line_out->len = 0 ;
  return code == LOCAL_STOP ? 0 : code ;
}

static int add_forward (char const *s, size_t len, char const *where)
{
  if (!len || addr_check(s, len) != ADDR_OK)
    return local_say(&text, LOCAL_TEMP, "4.2.0 bad forward address in ", where, "") ;
  if (++nlines > LINES_MAX) return local_say(&text, LOCAL_TEMP, "4.2.0 more than 1000 instructions in ", where, "") ;
  /* a copy each, forwarded again maybe: bounce once rather than retry */
  if (nfwd >= LOCAL_FORWARD_MAX) return local_say(&text, LOCAL_PERM, "5.4.6 more than 256 forward addresses in ", where, "") ;
  if (!stralloc_catb(&fwd, s, len) || !stralloc_0(&fwd)) return local_temp(&text, "allocate", "") ;
  nfwd++ ;
  return LOCAL_OK ;
}

static int did (int code)
{
  if (code != LOCAL_OK && code != LOCAL_STOP) return code ;
  if ((ndone++ && !stralloc_cats(&done, "; ")) || !stralloc_catb(&done, text.s, text.len)) done.len = 0 ;
  return code ;
}

/* one line, NUL-terminated in place (s[len] is writable) */
static int line (char *s, size_t len, char const *where)
{
  while (len && (*s == ' ' || *s == '\t')) { s++ ; len-- ; }
  while (len && (s[len-1] == ' ' || s[len-1] == '\t' || s[len-1] == '\r')) len-- ;
  s[len] = 0 ;
  if (!len || *s == '#') return LOCAL_OK ;
  if (*s == '&')
  {
    do { s++ ; len-- ; } while (len && (*s == ' ' || *s == '\t')) ;
    return add_forward(s, len, where) ;
  }
  if (*s != '|' && *s != '.' && *s != '/') return add_forward(s, len, where) ;
  if (++nlines > LINES_MAX) return local_say(&text, LOCAL_TEMP, "4.2.0 more than 1000 instructions in ", where, "") ;
  if (*s == '|')
  {
    nprogs++ ;
    /* what the program sees happens after the copies before it are durable */
    if (local_sync_flush(&text)) return LOCAL_TEMP ;
    return did(local_program(&ctx, s + 1, &text)) ;
  }
  nfiles++ ;
  return did(s[len-1] == '/' ? local_maildir(&ctx, s, &text) : local_mbox(&ctx, s, &text)) ;
}

/* every line in order; forwards are collected and injected at the end,
   once, if nothing failed (qmail-local's order) */
static int follow (char *s, size_t len, char const *where)
{
  int code = LOCAL_OK ;
  while (len && code == LOCAL_OK)
  {
    char *nl = memchr(s, '\n', len) ;
    size_t n = nl ? (size_t)(nl - s) : len ;
    code = line(s, n, where) ;
    if (!nl) break ;
    s += n + 1 ; len -= n + 1 ;
  }
  if (code != LOCAL_OK && code != LOCAL_STOP) return code ;
  if (nfwd)
  {
    int r ;
    if (generations >= maxforwards)
    {
      char num[ULONG_FMT] ;
      num[ulong_fmt(num, generations)] = 0 ;
      return local_say(&text, LOCAL_PERM, "5.4.6 not forwarded: the message was forwarded ", num, " times already (control/maxforwards)") ;
    }
    if (local_sync_flush(&text)) return LOCAL_TEMP ;
    r = did(local_forward(&ctx, fwd.s, fwd.len, nfwd, &text)) ;
    if (r != LOCAL_OK) return r ;
  }
  if (!ndone) local_say(&done, 0, "no delivery instruction in ", where, ": message discarded") ;
  return code ;
}

static int aliases (char const *list)
{
  size_t len = strlen(list) ;
  for (size_t i = 0 ; i < len ;)
  {
    size_t n = strcspn(list + i, ", \t") ;
    if (n && add_forward(list + i, n, "the alias") != LOCAL_OK) return LOCAL_TEMP ;
    i += n + 1 ;
  }
  if (!nfwd) return local_say(&text, LOCAL_TEMP, "4.3.5 empty alias for ", ctx.localname, "") ;
  return follow(0, 0, "the alias") ;
}

/* control/name as a number into *u, left alone if there is none: 0 or
   1, -1 with errno (EINVAL: not a number) */
static int readulong (stralloc *sa, char const *name, unsigned long *u)
{
  int r = local_control_readline(sa, name) ;
  if (r > 0 && !stralloc_0(sa)) return -1 ;
  if (r > 0 && (!*sa->s || sa->s[ulong_scan(sa->s, u)])) return (errno = EINVAL, -1) ;
  return r ;
}

/* One delivery: f holds user home localname ext domain sender
   recipient; alias the -a list or 0. The line (without its newline) in
   *out; returns the exit code. Every per-delivery static starts afresh. */
int local_deliver (char const *const *f, char const *alias, stralloc *out)
{
  static stralloc file = STRALLOC_ZERO, name = STRALLOC_ZERO ;
  unsigned long maxhops = CONTROL_MAXHOPS ;
  int r ;
  line_out = out ;
  text.len = done.len = fwd.len = file.len = name.len = ctx.lines.len = 0 ;
  nlines = ndone = nfiles = nfwd = nprogs = 0 ;
  ctx.user = f[0] ; ctx.home = f[1] ; ctx.localname = f[2] ; ctx.ext = f[3] ;
  ctx.domain = f[4] ; ctx.sender = f[5] ; ctx.recipient = f[6] ;
  if (addr_check(ctx.sender, strlen(ctx.sender)) != ADDR_OK || addr_check(ctx.recipient, strlen(ctx.recipient)) != ADDR_OK)
    return finish(local_say(&text, LOCAL_TEMP, "4.3.0 bad sender or recipient argument", "", "")) ;
  if (!stralloc_cats(&ctx.lines, "Return-Path: <") || !stralloc_cats(&ctx.lines, ctx.sender) || !stralloc_cats(&ctx.lines, ">\n"))
    return finish(local_temp(&text, "allocate", "")) ;
  ctx.rplen = ctx.lines.len ;
  if (!stralloc_cats(&ctx.lines, "Delivered-To: ") || !stralloc_cats(&ctx.lines, ctx.recipient) || !stralloc_cats(&ctx.lines, "\n"))
    return finish(local_temp(&text, "allocate", "")) ;

  maxforwards = LOCAL_MAXFORWARDS ;
  if (readulong(&name, "maxhops", &maxhops) < 0) return finish(local_temp(&text, "read control/maxhops", "")) ;
  if (readulong(&name, "maxforwards", &maxforwards) < 0) return finish(local_temp(&text, "read control/maxforwards", "")) ;
  r = local_hops(&ctx, maxhops, &generations, &text) ;
  if (r) return finish(r) ;
  if (alias) return finish(aliases(alias)) ;

  r = local_instr_read(&ctx, &file, &name, &text) ;
  if (r < 0) return finish(LOCAL_TEMP) ;
  if (!r && *ctx.ext) return finish(local_say(&text, LOCAL_PERM, "5.1.1 no such mailbox: ", ctx.localname, "")) ;
  /* no .postern, or an empty one (qmail's rule): the default */
  if (!r || !file.len)
  {
    r = local_control_readline(&file, "defaultdelivery") ;
    if (r < 0) return finish(local_temp(&text, "read control/defaultdelivery", "")) ;
    if (!r || !file.len) r = stralloc_copys(&file, "./Maildir/") ;
    if (!stralloc_copys(&name, "control/defaultdelivery") || !stralloc_0(&name) || !r)
      return finish(local_temp(&text, "allocate", "")) ;
  }
  /* room for line() to end the last line with a NUL */
  if (!stralloc_readyplus(&file, 1)) return finish(local_temp(&text, "allocate", "")) ;
  return finish(follow(file.s, file.len, name.s)) ;
}

int main (int argc, char const *const *argv)
{
  stralloc out = STRALLOC_ZERO ;
  char const *alias = 0 ;
  int code ;
  PROG = "local" ;
  if (argc == 2 && !strcmp(argv[1], "-w")) return local_worker() ;
  if (argc > 2 && !strcmp(argv[1], "-a")) { alias = argv[2] ; argv += 2 ; argc -= 2 ; }
  /* a bad argv comes from our own spawner: temporary, as STYLE says */
  if (argc != 8) strerr_dieusage(LOCAL_TEMP, USAGE) ;
  /* a dead program or queue-inject shows in its exit code */
  if (!sig_ignore(SIGPIPE))
  {
    local_temp(&text, "ignore SIGPIPE", "") ;
    if (!stralloc_copy(&out, &text)) out.len = 0 ;
    code = LOCAL_TEMP ;
  }
  else code = local_deliver(argv + 1, alias, &out) ;
  if (!out.len || !stralloc_catb(&out, "\n", 1)) return code ;
  allwrite(1, out.s, out.len) ;
  return code ;
}
