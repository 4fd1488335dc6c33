/* Settings: the session's variables (tcpserver's or smtpd-listen's
   environment) and the control/ files: read once per process under
   tcpserver, and by a worker again only when one of them changed. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "envelope.h"
#include "home.h"
#include "smtpd.h"
#include "spf.h"

smtpd_conf smtpd_config =
{
  .databytes = SMTPD_DATABYTES, .maxrcpt = SMTPD_MAXRCPT,
  .timeout = SMTPD_TIMEOUT, .maxbad = SMTPD_MAXBAD,
  .sessiontime = SMTPD_SESSIONTIME, .greetdelay = SMTPD_GREETDELAY,
  .authspf = 0, .authdkim = 0, .dkimbytes = SMTPD_DKIMBYTES, .authtimeout = SMTPD_AUTHTIME,
  .maxhops = CONTROL_MAXHOPS,
  .remoteip = "unknown", .localip = 0, .relayclient = 0,
  .norcptcheck = 0, .smtps = 0, .submission = 0,
  .authmaxfail = SMTPD_AUTHMAXFAIL, .authdelay = SMTPD_AUTHDELAY, .authsender = 0,
  .me = STRALLOC_ZERO, .greeting = STRALLOC_ZERO, .checkpassword = STRALLOC_ZERO
} ;

size_t smtpd_clean (char *d, size_t max, char const *s, size_t len)
{
  size_t n = 0 ;
  for (size_t i = 0 ; i < len && n < max ; i++)
  {
    unsigned char c = (unsigned char)s[i] ;
    d[n++] = c > 32 && c < 127 && c != '(' && c != ')' && c != '\\' ? (char)c : '?' ;
  }
  return n ;
}

/* keeps at most max bytes of sa, cleaned, NUL-terminated */
static int cleaned (stralloc *sa, size_t max, int spaces)
{
  size_t n = sa->len < max ? sa->len : max ;
  for (size_t i = 0 ; i < n ; i++)
  {
    unsigned char c = (unsigned char)sa->s[i] ;
    if (c < 32 || c >= 127 || (c == ' ' && !spaces)) sa->s[i] = '?' ;
  }
  sa->len = n ;
  return stralloc_0(sa) ;
}

static int readuint (unsigned long *u, char const *name, unsigned long def, char const **what)
{
  if (control_readuint(u, name, def) < 0) return (*what = name, 0) ;
  return 1 ;
}

/* control/authresults: the checks recorded, a word a line ("spf", "dkim");
   absent or empty: none, and no Authentication-Results field */
static int authresults (char const **what)
{
  stralloc sa = STRALLOC_ZERO ;
  size_t pos = 0 ;
  smtpd_config.authspf = smtpd_config.authdkim = 0 ;
  if (!openslurpclose(&sa, "control/authresults") && errno != ENOENT) return (*what = "authresults", 0) ;
  while (pos < sa.len)
  {
    size_t len = 0 ;
    while (pos + len < sa.len && sa.s[pos + len] != '\n') len++ ;
    while (len && (sa.s[pos + len - 1] == ' ' || sa.s[pos + len - 1] == '\t' || sa.s[pos + len - 1] == '\r')) len-- ;
    if (len == 3 && !memcmp(sa.s + pos, "spf", 3)) smtpd_config.authspf = 1 ;
    if (len == 4 && !memcmp(sa.s + pos, "dkim", 4)) smtpd_config.authdkim = 1 ;
    while (pos < sa.len && sa.s[pos] != '\n') pos++ ;
    pos++ ;
  }
  stralloc_free(&sa) ;
  return 1 ;
}

void smtpd_conf_env (void)
{
  char const *x = getenv("TCPREMOTEIP") ;
  smtpd_config.remoteip = x && *x ? x : "unknown" ;
  x = getenv("TCPLOCALIP") ;
  smtpd_config.localip = x && *x ? x : 0 ;
  x = getenv("PROXYFROM") ;
  smtpd_config.proxyfrom = x && *x ? x : 0 ;
  smtpd_config.relayclient = !!getenv("RELAYCLIENT") ;
  smtpd_config.norcptcheck = !!getenv("NORCPTCHECK") ;
  smtpd_config.smtps = !!getenv("SMTPS") ;
  smtpd_config.submission = !!getenv("SUBMISSION") ;
}

/* what smtpd_conf_read reads, and how each looked then */
static char const *const files[] =
{
  "control/databytes", "control/maxrcpt", "control/timeoutsmtpd", "control/maxbadcommands",
  "control/maxhops", "control/me", "control/smtpgreeting", "control/smtpdsessiontime",
  "control/smtpdgreetdelay", "control/authmaxfail", "control/authdelay", "control/authsender",
  "control/checkpassword", "control/authresults", "control/authtimeout", "control/dkimbytes",
  "control/dnsservers"
} ;
#define NFILES (sizeof files / sizeof *files)
static struct sig { dev_t dev ; ino_t ino ; off_t size ; struct timespec mtime ; int there ; } sigs[NFILES] ;
static int seen = 0 ;

int smtpd_conf_changed (void)
{
  int changed = !seen ;
  seen = 1 ;
  for (unsigned int i = 0 ; i < NFILES ; i++)
  {
    struct stat st ;
    struct sig now = { 0 } ;
    if (!stat(files[i], &st))
    {
      now.there = 1 ; now.dev = st.st_dev ; now.ino = st.st_ino ;
      now.size = st.st_size ; now.mtime = st.st_mtim ;
    }
    /* an unreadable one is read again, and its error told */
    else if (errno != ENOENT) changed = 1 ;
    if (now.there != sigs[i].there || now.dev != sigs[i].dev || now.ino != sigs[i].ino
     || now.size != sigs[i].size || now.mtime.tv_sec != sigs[i].mtime.tv_sec
     || now.mtime.tv_nsec != sigs[i].mtime.tv_nsec) changed = 1 ;
    sigs[i] = now ;
  }
  return changed ;
}

int smtpd_conf_read (char const **what)
{
  unsigned long authsender ;
  int r ;
  /* control/dnsservers is read again at the next check */
  spf_dns_forget() ;
  if (!readuint(&smtpd_config.databytes, "databytes", SMTPD_DATABYTES, what)
   || !readuint(&smtpd_config.maxrcpt, "maxrcpt", SMTPD_MAXRCPT, what)
   || !readuint(&smtpd_config.timeout, "timeoutsmtpd", SMTPD_TIMEOUT, what)
   || !readuint(&smtpd_config.maxbad, "maxbadcommands", SMTPD_MAXBAD, what)
   || !readuint(&smtpd_config.maxhops, "maxhops", CONTROL_MAXHOPS, what)
   || !readuint(&smtpd_config.sessiontime, "smtpdsessiontime", SMTPD_SESSIONTIME, what)
   || !readuint(&smtpd_config.greetdelay, "smtpdgreetdelay", SMTPD_GREETDELAY, what)
   || !readuint(&smtpd_config.authmaxfail, "authmaxfail", SMTPD_AUTHMAXFAIL, what)
   || !readuint(&smtpd_config.authdelay, "authdelay", SMTPD_AUTHDELAY, what)
   || !readuint(&authsender, "authsender", 0, what)
   || !readuint(&smtpd_config.authtimeout, "authtimeout", SMTPD_AUTHTIME, what)
   || !readuint(&smtpd_config.dkimbytes, "dkimbytes", SMTPD_DKIMBYTES, what)
   || !authresults(what)) return 0 ;
  if (!smtpd_config.authtimeout) smtpd_config.authtimeout = 1 ;
  if (smtpd_config.authtimeout > SMTPD_AUTHTIME_MAX) smtpd_config.authtimeout = SMTPD_AUTHTIME_MAX ;
  if (smtpd_config.dkimbytes > SMTPD_DKIMBYTES_MAX) smtpd_config.dkimbytes = SMTPD_DKIMBYTES_MAX ;
  smtpd_config.authsender = !!authsender ;
  if (!smtpd_config.authmaxfail) smtpd_config.authmaxfail = 1 ;
  if (smtpd_config.authdelay > SMTPD_AUTHDELAY_MAX) smtpd_config.authdelay = SMTPD_AUTHDELAY_MAX ;
  /* queue-inject takes no more; a timeout of 0 would drop every client */
  if (!smtpd_config.maxrcpt || smtpd_config.maxrcpt > ENV_RCPT_MAX) smtpd_config.maxrcpt = ENV_RCPT_MAX ;
  if (!smtpd_config.timeout) smtpd_config.timeout = 1 ;
  if (smtpd_config.timeout > 86400) smtpd_config.timeout = 86400 ;
  if (!smtpd_config.maxbad) smtpd_config.maxbad = 1 ;
  if (!smtpd_config.sessiontime || smtpd_config.sessiontime > SMTPD_SESSIONTIME_MAX)
    smtpd_config.sessiontime = SMTPD_SESSIONTIME_MAX ;
  if (smtpd_config.greetdelay > SMTPD_GREETDELAY_MAX) smtpd_config.greetdelay = SMTPD_GREETDELAY_MAX ;
  r = control_readline(&smtpd_config.me, "me") ;
  if (r < 0) return (*what = "me", 0) ;
  if (!r || !smtpd_config.me.len)
  {
    char host[SMTPD_ME_MAX + 1] ;
    if (gethostname(host, sizeof host) < 0) return (*what = "the host name", 0) ;
    host[SMTPD_ME_MAX] = 0 ;
    if (!stralloc_copys(&smtpd_config.me, host)) return (*what = "memory", 0) ;
  }
  if (!cleaned(&smtpd_config.me, SMTPD_ME_MAX, 0)) return (*what = "memory", 0) ;
  r = control_readline(&smtpd_config.greeting, "smtpgreeting") ;
  if (r < 0) return (*what = "smtpgreeting", 0) ;
  if (!r || !smtpd_config.greeting.len)
  {
    if (!stralloc_copyb(&smtpd_config.greeting, smtpd_config.me.s, smtpd_config.me.len - 1)
     || !stralloc_cats(&smtpd_config.greeting, " ESMTP postern")) return (*what = "memory", 0) ;
  }
  if (!cleaned(&smtpd_config.greeting, SMTPD_REPLY_MAX - 8, 1)) return (*what = "memory", 0) ;
  /* one program, no arguments: bin/checkpw of the home by default */
  r = control_readline(&smtpd_config.checkpassword, "checkpassword") ;
  if (r < 0) return (*what = "checkpassword", 0) ;
  if (!r || !smtpd_config.checkpassword.len)
  {
    if (!stralloc_copys(&smtpd_config.checkpassword, home_dir())
     || !stralloc_cats(&smtpd_config.checkpassword, "/bin/checkpw")) return (*what = "memory", 0) ;
  }
  if (!stralloc_0(&smtpd_config.checkpassword)) return (*what = "memory", 0) ;
  errno = 0 ;
  return 1 ;
}
