/* smtpd: the ESMTP server, as the smtpd account: one process per
   connection under tcpserver, or (-w) a worker of smtpd-listen serving
   sessions one after another. Reads commands on fd 0, replies on fd 1,
   logs one line per event on fd 2. Writes nothing itself: an accepted
   message goes to queue-inject through pipes (smtpd(8)). */

#include <signal.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "envelope.h"
#include "home.h"
#include "smtpd.h"

enum smtpd_state { S_GREET, S_HELO, S_MAIL, S_RCPT } ;
#define IN(s) (1u << (s))
#define ANY (IN(S_GREET) | IN(S_HELO) | IN(S_MAIL) | IN(S_RCPT))
/* a verb's result: the new state, or KEEP */
#define KEEP (-1)

struct verb
{
  char const *name ;
  unsigned int in ;            /* states where it is allowed */
  int (*run) (char const *arg) ;
} ;

static enum smtpd_state state = S_GREET ;
static char helo[SMTPD_HELO_MAX + 1] ;
static int esmtp = 0 ;
static int smtputf8 = 0 ;   /* this transaction's MAIL had SMTPUTF8 */
static stralloc env = STRALLOC_ZERO ;  /* F sender, T per recipient */
static unsigned int nrcpt = 0 ;
static unsigned long nbad = 0 ;
static int quit = 0 ;       /* QUIT was answered: the session is over */

/* a reply to a command that was wrong (syntax, order, unknown): too
   many of them and the client is dropped */
static int bad (char const *code, char const *status, char const *text)
{
  smtpd_reply(code, status, text) ;
  if (++nbad >= smtpd_config.maxbad)
    smtpd_bye("4.7.0", "too many bad commands, closing", "too many bad commands") ;
  return KEEP ;
}

/* a reply string "ddd x.y.z text" from the parser or the policy */
static void reply_str (char const *r, int counts)
{
  char code[4], status[16] ;
  size_t n = strcspn(r + 4, " ") ;
  memcpy(code, r, 3) ; code[3] = 0 ;
  if (n >= sizeof status) n = sizeof status - 1 ;
  memcpy(status, r + 4, n) ; status[n] = 0 ;
  if (counts) bad(code, status, r + 5 + n) ;
  else smtpd_reply(code, status, r + 5 + n) ;
}

static void reset (void)
{
  env.len = 0 ;
  nrcpt = 0 ;
  smtputf8 = 0 ;
  smtpd_rcpts_reset() ;
}

static int hello (char const *arg, int ext)
{
  size_t n ;
  while (*arg == ' ') arg++ ;
  n = strcspn(arg, " ") ;
  if (!n) return bad("501", "5.5.4", ext ? "syntax: EHLO hostname" : "syntax: HELO hostname") ;
  helo[smtpd_clean(helo, SMTPD_HELO_MAX, arg, n)] = 0 ;
  esmtp = ext ;
  reset() ;
  if (!ext)
  {
    smtpd_reply("250", 0, smtpd_config.me.s) ;
    return S_HELO ;
  }
  {
    char size[ULONG_FMT + 6] = "SIZE " ;
    size[5 + ulong_fmt(size + 5, smtpd_config.databytes)] = 0 ;
    smtpd_put("250-", 4) ; smtpd_puts(smtpd_config.me.s) ; smtpd_put("\r\n", 2) ;
    smtpd_puts("250-PIPELINING\r\n250-") ; smtpd_puts(size) ;
    smtpd_puts("\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n") ;
    if (smtpd_tls_offered()) smtpd_puts("250-STARTTLS\r\n") ;
    /* a password only ever crosses TLS */
    if (smtpd_tls.on) smtpd_puts("250-AUTH PLAIN LOGIN\r\n") ;
    smtpd_puts("250 ENHANCEDSTATUSCODES\r\n") ;
  }
  return S_HELO ;
}

static int do_helo (char const *arg) { return hello(arg, 0) ; }
static int do_ehlo (char const *arg) { return hello(arg, 1) ; }

static int do_mail (char const *arg)
{
  smtpd_path p ;
  char const *r = smtpd_path_parse(&p, arg, 0) ;
  if (r) { reply_str(r, 1) ; return KEEP ; }
  /* RFC 6531 3.4, 3.5: UTF-8 addresses only in an SMTPUTF8
     transaction; the parameter after EHLO only (RFC 5321 4.1.1.11) */
  if (p.smtputf8 && !esmtp) { reply_str("555 5.5.4 SMTPUTF8 needs EHLO", 1) ; return KEEP ; }
  if (p.utf8 && !p.smtputf8)
  {
    smtpd_reply("553", "5.6.7", "non-ASCII sender address needs the SMTPUTF8 parameter") ;
    return KEEP ;
  }
  if (smtpd_config.submission && !smtpd_auth_user[0])
  {
    smtpd_reply("530", "5.7.0", "authentication required") ;
    return KEEP ;
  }
  /* control/authsender: a user sends as itself only (the null sender
     too is refused: bounces are not a user's to send) */
  if (smtpd_auth_user[0] && smtpd_config.authsender
   && (p.len != strlen(smtpd_auth_user) || strncasecmp(p.addr, smtpd_auth_user, p.len)))
  {
    smtpd_reply("553", "5.7.1", "sender address is not yours") ;
    return KEEP ;
  }
  if (smtpd_config.databytes && p.size > smtpd_config.databytes)
  {
    smtpd_reply("552", "5.3.4", "message size exceeds fixed maximum message size") ;
    return KEEP ;
  }
  reset() ;
  smtpd_policy_reset() ;
  if (!env_put(&env, 'F', p.addr, p.len))
  {
    smtpd_reply("451", "4.3.0", "out of memory") ;
    return KEEP ;
  }
  smtputf8 = p.smtputf8 ;
  smtpd_reply("250", "2.1.0", "sender ok") ;
  return S_MAIL ;
}

static void log_rcpt (char const *addr, size_t len, char const *why)
{
  smtpd_log_start("rcpt") ;
  smtpd_log_put(" from <") ;
  smtpd_log_str(env.s + 1, strlen(env.s + 1)) ;
  smtpd_log_put("> to <") ;
  smtpd_log_str(addr, len) ;
  smtpd_log_put(">: ") ;
  smtpd_log_put(why) ;
  smtpd_log_end() ;
}

static int do_rcpt (char const *arg)
{
  smtpd_path p ;
  char const *r = smtpd_path_parse(&p, arg, 1) ;
  size_t before ;
  int local ;
  if (r) { reply_str(r, 1) ; return KEEP ; }
  if (p.utf8 && !smtputf8)
  {
    smtpd_reply("553", "5.6.7", "non-ASCII recipient address needs SMTPUTF8 on MAIL") ;
    return KEEP ;
  }
  /* a duplicate is taken, and queued once (a table that cannot be read
     is the policy's to report) */
  local = smtpd_policy_local(&p) ;
  if (local >= 0 && smtpd_rcpts_seen(p.addr, p.len, local))
  {
    smtpd_reply("250", "2.1.5", "duplicate recipient, kept once") ;
    return S_RCPT ;
  }
  /* RFC 5321 4.5.3.1.10 */
  if (nrcpt >= smtpd_config.maxrcpt)
  {
    smtpd_reply("452", "4.5.3", "too many recipients") ;
    return KEEP ;
  }
  r = smtpd_policy_rcpt(&p) ;
  if (r)
  {
    log_rcpt(p.addr, p.len, r) ;
    reply_str(r, 0) ;
    return KEEP ;
  }
  before = env.len ;
  if (!env_put(&env, 'T', p.addr, p.len)
   || (local >= 0 && !smtpd_rcpts_add(p.addr, p.len, local)))
  {
    env.len = before ;
    smtpd_reply("451", "4.3.0", "out of memory") ;
    return KEEP ;
  }
  nrcpt++ ;
  smtpd_reply("250", "2.1.5", "recipient ok") ;
  return S_RCPT ;
}

static int do_data (char const *arg)
{
  if (*arg) return bad("501", "5.5.4", "syntax: DATA takes no parameter") ;
  smtpd_data(&env, nrcpt, helo, esmtp + smtputf8) ;
  reset() ;
  return S_HELO ;
}

static int do_rset (char const *arg)
{
  (void)arg ;
  reset() ;
  smtpd_reply("250", "2.0.0", "reset") ;
  return state == S_GREET ? S_GREET : S_HELO ;
}

static int do_noop (char const *arg)
{
  (void)arg ;
  smtpd_reply("250", "2.0.0", "ok") ;
  return KEEP ;
}

/* never says whether a user exists */
static int do_vrfy (char const *arg)
{
  (void)arg ;
  smtpd_reply("252", "2.5.0", "cannot verify, but will accept the message and try") ;
  return KEEP ;
}

static int do_help (char const *arg)
{
  (void)arg ;
  smtpd_puts("214-2.0.0 commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT\r\n") ;
  smtpd_reply("214", "2.0.0", "see RFC 5321") ;
  return KEEP ;
}

static int do_starttls (char const *arg)
{
  size_t dropped ;
  if (*arg) return bad("501", "5.5.4", "syntax: STARTTLS takes no parameter") ;
  if (smtpd_tls.on) return bad("503", "5.5.1", "TLS already active") ;
  if (!smtpd_tls_offered()) return bad("502", "5.5.1", "STARTTLS not available") ;
  smtpd_reply("220", "2.0.0", "ready to start TLS") ;
  smtpd_flush() ;
  /* what came after STARTTLS in clear text is never run (RFC 3207 4.2,
     CVE-2011-0411): a command injected before the handshake */
  dropped = smtpd_io_drop() ;
  if (!smtpd_tls_start()) { quit = 1 ; return KEEP ; }
  if (dropped)
  {
    char fmt[SIZE_FMT] ;
    fmt[size_fmt(fmt, dropped)] = 0 ;
    smtpd_log_start("tls") ;
    smtpd_log_put(" dropped ") ;
    smtpd_log_put(fmt) ;
    smtpd_log_put(" bytes sent in clear text after STARTTLS") ;
    smtpd_log_end() ;
  }
  /* and nothing said before it counts */
  helo[0] = 0 ;
  esmtp = 0 ;
  reset() ;
  return S_GREET ;
}

static int do_auth (char const *arg)
{
  if (!smtpd_tls.on)
  {
    if (smtpd_tls_offered()) return bad("538", "5.7.11", "encryption required: STARTTLS first") ;
    return bad("503", "5.5.1", "authentication not available") ;
  }
  if (smtpd_auth_user[0]) return bad("503", "5.5.1", "already authenticated") ;
  if (!esmtp) return bad("503", "5.5.1", "EHLO first") ;
  smtpd_auth(arg) ;
  return KEEP ;
}

static int do_quit (char const *arg)
{
  (void)arg ;
  smtpd_put("221 2.0.0 ", 10) ;
  smtpd_puts(smtpd_config.me.s) ;
  smtpd_puts(" closing\r\n") ;
  smtpd_flush() ;
  smtpd_log_start("end") ;
  smtpd_log_put(": quit") ;
  smtpd_log_end() ;
  quit = 1 ;
  return KEEP ;
}

static int do_unimpl (char const *arg)
{
  (void)arg ;
  return bad("502", "5.5.1", "command not implemented") ;
}

static struct verb const verbs[] =
{
  { "helo", ANY, &do_helo },
  { "ehlo", ANY, &do_ehlo },
  { "mail", IN(S_HELO), &do_mail },
  { "rcpt", IN(S_MAIL) | IN(S_RCPT), &do_rcpt },
  { "data", IN(S_RCPT), &do_data },
  { "rset", ANY, &do_rset },
  { "noop", ANY, &do_noop },
  { "vrfy", ANY, &do_vrfy },
  { "help", ANY, &do_help },
  { "quit", ANY, &do_quit },
  { "expn", ANY, &do_unimpl },
  { "turn", ANY, &do_unimpl },
  { "etrn", ANY, &do_unimpl },
  { "bdat", ANY, &do_unimpl },
  { "auth", IN(S_HELO), &do_auth },
  { "starttls", ANY, &do_starttls },
} ;

static void command (char const *line)
{
  size_t n = strcspn(line, " ") ;
  for (unsigned int i = 0 ; i < sizeof verbs / sizeof *verbs ; i++)
  {
    struct verb const *v = verbs + i ;
    int next ;
    if (strlen(v->name) != n || strncasecmp(line, v->name, n)) continue ;
    if (!(v->in & IN(state))) { bad("503", "5.5.1", "bad sequence of commands") ; return ; }
    next = (*v->run)(line + n) ;
    if (next != KEEP) state = (enum smtpd_state)next ;
    return ;
  }
  bad("500", "5.5.1", "command unrecognized") ;
}

/* Every session starts from nothing: no state of the one before
   survives (a worker serves many). */
void smtpd_session (void)
{
  state = S_GREET ;
  helo[0] = 0 ;
  esmtp = 0 ;
  reset() ;
  nbad = 0 ;
  quit = 0 ;
  smtpd_policy_reset() ;
  smtpd_tls_reset() ;
  smtpd_auth_reset() ;
  smtpd_io_session() ;
  smtpd_log_start("start") ;
  smtpd_log_put(" ip ") ;
  smtpd_log_str(smtpd_config.remoteip, strlen(smtpd_config.remoteip)) ;
  if (smtpd_config.proxyfrom) { smtpd_log_put(" proxy ") ; smtpd_log_str(smtpd_config.proxyfrom, strlen(smtpd_config.proxyfrom)) ; }
  if (smtpd_config.relayclient) smtpd_log_put(" relayclient") ;
  smtpd_log_end() ;
  /* port 465: TLS from the first byte, the greeting inside it */
  if (smtpd_config.smtps)
  {
    if (!smtpd_tls_offered())
    {
      smtpd_log_start("end") ;
      smtpd_log_put(": SMTPS without a certificate (" SMTPD_TLS_CERT ")") ;
      smtpd_log_end() ;
      return ;
    }
    if (!smtpd_tls_start()) return ;
  }
  if (!smtpd_greet_wait()) return ;
  smtpd_reply("220", 0, smtpd_config.greeting.s) ;
  while (!quit)
  {
    char *line ;
    size_t len ;
    switch (smtpd_getline(&line, &len))
    {
      case LINE_OK : command(line) ; break ;
      case LINE_BARE : bad("500", "5.5.2", "bare CR not allowed, lines end with CR LF") ; break ;
      case LINE_LONG : bad("500", "5.5.2", "line too long") ; break ;
      case LINE_NUL : bad("500", "5.5.2", "NUL characters not allowed") ; break ;
      case LINE_EOF :
        smtpd_log_start("end") ;
        smtpd_log_put(": eof") ;
        smtpd_log_end() ;
        return ;
    }
  }
}

int main (int argc, char const *const *argv)
{
  char const *what = 0 ;
  PROG = "smtpd" ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  if (argc == 2 && !strcmp(argv[1], "-w")) return smtpd_worker() ;
  if (argc > 1) strerr_dieusage(100, "smtpd [ -w ]") ;
  smtpd_io_init() ;
  if (home_chdir() < 0)
  {
    smtpd_reply("421", "4.3.5", "service not available, try later") ;
    smtpd_flush() ;
    strerr_diefu1sys(111, "chdir to the home") ;
  }
  smtpd_conf_env() ;
  if (!smtpd_conf_read(&what))
  {
    smtpd_reply("421", "4.3.5", "service not available, try later") ;
    smtpd_flush() ;
    strerr_diefu2sys(111, "read control/", what) ;
  }
  smtpd_session() ;
  return 0 ;
}
