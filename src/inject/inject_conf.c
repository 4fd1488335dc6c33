/* Who sends, and the names that qualify addresses: control/defaulthost,
   control/defaultdomain and control/me of the home (inject does not
   chdir there: a relative POSTERN_HOME stays relative to the caller),
   the caller's account and environment, -f and -F. */

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "addr.h"
#include "control.h"
#include "home.h"
#include "inject.h"

static void nomem (void)
{
  strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
}

/* control/name into sa; 0 when absent or empty */
static int readctl (stralloc *sa, char const *name)
{
  stralloc path = STRALLOC_ZERO ;
  int r ;
  if (!stralloc_cats(&path, home_dir()) || !stralloc_cats(&path, "/" CONTROL_DIR "/")
   || !stralloc_cats(&path, name) || !stralloc_0(&path)) nomem() ;
  r = control_readfile(sa, path.s) ;
  if (r < 0) strerr_diefu2sys(INJECT_ETEMP, "read ", path.s) ;
  stralloc_free(&path) ;
  return r && sa->len ;
}

/* a host name goes into headers and addresses: no blank, no control */
static void checkhost (stralloc *sa, char const *what)
{
  if (sa->len > INJECT_HOST_MAX) strerr_dief3x(INJECT_ETEMP, "control/", what, " is longer than 255 bytes") ;
  for (size_t i = 0 ; i < sa->len ; i++)
    if ((unsigned char)sa->s[i] <= 32 || sa->s[i] == 127)
      strerr_dief3x(INJECT_ETEMP, "control/", what, " holds a blank or control character") ;
  if (!stralloc_0(sa)) nomem() ;
}

static void names (inject_conf *c)
{
  stralloc me = STRALLOC_ZERO ;
  int r ;
  if (!readctl(&me, "me"))
  {
    char h[INJECT_HOST_MAX + 1] ;
    if (gethostname(h, sizeof h) < 0) strerr_diefu1sys(INJECT_ETEMP, "get the host name") ;
    h[INJECT_HOST_MAX] = 0 ;
    if (!stralloc_copys(&me, h)) nomem() ;
  }
  r = readctl(&c->host, "defaulthost") ;
  if (!r && !stralloc_copy(&c->host, &me)) nomem() ;
  checkhost(&c->host, r ? "defaulthost" : "me") ;
  r = readctl(&c->domain, "defaultdomain") ;
  if (!r && !stralloc_copy(&c->domain, &me)) nomem() ;
  checkhost(&c->domain, r ? "defaultdomain" : "me") ;
  stralloc_free(&me) ;
}

/* RFC 5322 atext and dots: what a local part written unquoted may hold */
static int plainlocal (char const *s)
{
  if (!*s || strlen(s) > ADDR_LOCAL_MAX) return 0 ;
  for (; *s ; s++)
  {
    unsigned char ch = (unsigned char)*s ;
    if (ch <= 32 || ch >= 127 || strchr("()<>[]:;@\\,\"", ch)) return 0 ;
  }
  return 1 ;
}

static char const *env (char const *name)
{
  char const *x = getenv(name) ;
  return x && *x ? x : 0 ;
}

/* a full name: control characters dropped, cut to INJECT_NAME_MAX */
static void fullname (stralloc *sa, char const *x, size_t len)
{
  size_t i = 0, n = 0 ;
  if (!stralloc_ready(sa, len > INJECT_NAME_MAX ? INJECT_NAME_MAX : len)) nomem() ;
  for (; i < len && n < INJECT_NAME_MAX ; i++)
  {
    unsigned char ch = (unsigned char)x[i] ;
    if (ch >= 32 && ch != 127) sa->s[n++] = x[i] ;
  }
  /* cut short: never in the middle of a UTF-8 character */
  if (i < len && ((unsigned char)x[i] & 0xc0) == 0x80)
  {
    while (n && ((unsigned char)sa->s[n-1] & 0xc0) == 0x80) n-- ;
    if (n) n-- ;
  }
  while (n && sa->s[n-1] == ' ') n-- ;
  sa->len = n ;
  if (!stralloc_0(sa)) nomem() ;
}

static void account (inject_conf *c, inject_opts const *o)
{
  char const *u = env("MAILUSER") ;
  char const *name = o->fullname ;
  struct passwd *pw ;
  errno = 0 ;
  pw = getpwuid(getuid()) ;
  if (!u && pw) u = pw->pw_name ;
  if (!u) u = env("USER") ;
  if (!u) u = env("LOGNAME") ;
  if (!u)
  {
    char fmt[UID_FMT] ;
    fmt[uid_fmt(fmt, getuid())] = 0 ;
    strerr_dief3x(INJECT_ETEMP, "no account name for uid ", fmt, ": set MAILUSER") ;
  }
  if (!plainlocal(u)) strerr_dief3x(INJECT_ETEMP, "the user name ", u, " cannot be a local part: set MAILUSER") ;
  if (!stralloc_copys(&c->user, u) || !stralloc_0(&c->user)) nomem() ;
  if (!name) name = env("MAILNAME") ;
  if (!name) name = env("NAME") ;
  if (name) fullname(&c->name, name, strlen(name)) ;
  else if (pw && pw->pw_gecos)
  {
    char const *comma = strchr(pw->pw_gecos, ',') ;
    fullname(&c->name, pw->pw_gecos, comma ? (size_t)(comma - pw->pw_gecos) : strlen(pw->pw_gecos)) ;
  }
  else fullname(&c->name, "", 0) ;
}

/* -f: "<>" or "" is the null sender; angle brackets are dropped and a
   bare local part gets the default domain */
static void sender (inject_conf *c, char const *f)
{
  size_t len = strlen(f) ;
  while (len && (*f == ' ' || *f == '\t')) { f++ ; len-- ; }
  while (len && (f[len-1] == ' ' || f[len-1] == '\t')) len-- ;
  if (len >= 2 && f[0] == '<' && f[len-1] == '>') { f++ ; len -= 2 ; }
  if (!stralloc_copyb(&c->sender, f, len)) nomem() ;
  if (len && !memchr(f, '@', len)
   && (!stralloc_catb(&c->sender, "@", 1) || !stralloc_cats(&c->sender, c->domain.s))) nomem() ;
  if (addr_check(c->sender.s, c->sender.len) != ADDR_OK)
    strerr_dief1x(INJECT_EUSAGE, "the sender address is too long or holds a control character") ;
  if (!stralloc_0(&c->sender)) nomem() ;
}

void inject_conf_read (inject_conf *c, inject_opts const *o)
{
  names(c) ;
  account(c, o) ;
  if (o->sender) sender(c, o->sender) ;
  else
  {
    if (!stralloc_copyb(&c->sender, c->user.s, c->user.len - 1)
     || !stralloc_catb(&c->sender, "@", 1) || !stralloc_cats(&c->sender, c->domain.s)) nomem() ;
    if (c->sender.len > ADDR_MAX) strerr_dief1x(INJECT_ETEMP, "user@defaultdomain is longer than 256 bytes") ;
    if (!stralloc_0(&c->sender)) nomem() ;
  }
}
