/* AUTH PLAIN and LOGIN (RFC 4954, 4616), inside TLS only. The
   password goes to a checkpassword program (control/checkpassword,
   bin/checkpw by default) on its fd 3, as login\0password\0timestamp\0;
   its exit says: 0 good, 1 bad, 2 misuse, anything else temporary.
   smtpd reads no password table itself. A failure is told only after
   control/authdelay, and control/authmaxfail of them end the session. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "base64.h"
#include "smtpd.h"

char smtpd_auth_user[SMTPD_LOGIN_MAX + 1] ;
static unsigned long fails = 0 ;

void smtpd_auth_reset (void)
{
  smtpd_auth_user[0] = 0 ;
  fails = 0 ;
}

enum check { CHECK_OK, CHECK_BAD, CHECK_TEMP } ;

/* runs the checker: fd 3 carries what it reads, fds 0 and 1 are not
   the client's */
static enum check check (char const *login, size_t ll, char const *pass, size_t pl)
{
  char buf[SMTPD_LOGIN_MAX + SMTPD_PASSWORD_MAX + 64] ;
  char const *argv[] = { smtpd_config.checkpassword.s, "/bin/true", 0 } ;
  size_t n = 0 ;
  int p[2], wstat ;
  pid_t pid ;
  if (pipe2(p, O_CLOEXEC) < 0) return CHECK_TEMP ;
  pid = fork() ;
  if (pid < 0) { fd_close(p[0]) ; fd_close(p[1]) ; return CHECK_TEMP ; }
  if (!pid)
  {
    int null = open("/dev/null", O_RDWR) ;
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0) _exit(111) ;
    /* dup2 onto itself would keep close-on-exec */
    if (p[0] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(p[0], 3) < 0) _exit(111) ;
    execv(argv[0], (char *const *)argv) ;
    _exit(111) ;
  }
  fd_close(p[0]) ;
  memcpy(buf, login, ll) ; n = ll ; buf[n++] = 0 ;
  memcpy(buf + n, pass, pl) ; n += pl ; buf[n++] = 0 ;
  /* the checkpassword timestamp: unused by checkpw, wanted by APOP-era ones */
  buf[n++] = '<' ;
  n += pid_fmt(buf + n, getpid()) ;
  buf[n++] = '.' ;
  n += ulong_fmt(buf + n, (unsigned long)time(0)) ;
  buf[n++] = '>' ; buf[n++] = 0 ;
  /* smaller than a pipe's buffer: never blocks; a checker that left
     unread is its own failure, told by its exit */
  (void)allwrite(p[1], buf, n) ;
  explicit_bzero(buf, sizeof buf) ;
  fd_close(p[1]) ;
  if (wait_pid(pid, &wstat) < 0) return CHECK_TEMP ;
  if (!WIFEXITED(wstat)) return CHECK_TEMP ;
  switch (WEXITSTATUS(wstat))
  {
    case 0 : return CHECK_OK ;
    case 1 : case 2 : return CHECK_BAD ;
    default : return CHECK_TEMP ;
  }
}

static void pause_ms (unsigned long ms)
{
  tain d, w ;
  tain_now_g() ;
  tain_from_millisecs(&w, (int)ms) ;
  tain_add_g(&d, &w) ;
  while (iopause_g(0, 0, &d) < 0 && errno == EINTR) ;
}

static void log_auth (char const *mech, char const *login, size_t ll, char const *what)
{
  smtpd_log_start("auth") ;
  smtpd_log_put(" ip ") ;
  smtpd_log_str(smtpd_config.remoteip, strlen(smtpd_config.remoteip)) ;
  smtpd_log_put(" ") ;
  smtpd_log_put(mech) ;
  smtpd_log_put(" user <") ;
  smtpd_log_str(login, ll) ;
  smtpd_log_put(">: ") ;
  smtpd_log_put(what) ;
  smtpd_log_end() ;
}

/* the client's next line, base64-decoded into d (room for
   SMTPD_LINE_MAX / 4 * 3); -1 after a reply (cancelled, bad), -2 at EOF */
static ssize_t response (char *d, char const *given)
{
  char *line ;
  size_t len ;
  ssize_t r ;
  if (given) { line = (char *)given ; len = strlen(given) ; }
  else
  {
    switch (smtpd_getline(&line, &len))
    {
      case LINE_OK : break ;
      case LINE_EOF : return -2 ;
      default :
        smtpd_reply("501", "5.5.2", "bad line in authentication") ;
        return -1 ;
    }
  }
  if (len == 1 && line[0] == '*')
  {
    smtpd_reply("501", "5.0.0", "authentication cancelled") ;
    return -1 ;
  }
  /* RFC 4954: "=" is an empty initial response */
  if (given && len == 1 && line[0] == '=') return 0 ;
  r = base64_decode(d, line, len) ;
  if (r < 0) smtpd_reply("501", "5.5.2", "cannot decode the response") ;
  return r ;
}

/* a prompt, then the response */
static ssize_t ask (char *d, char const *prompt)
{
  smtpd_puts("334 ") ;
  smtpd_puts(prompt) ;
  smtpd_put("\r\n", 2) ;
  return response(d, 0) ;
}

int smtpd_auth (char const *arg)
{
  char in[SMTPD_LINE_MAX], pw[SMTPD_LINE_MAX] ;
  char const *login, *pass, *mech ;
  size_t ll, pl, n ;
  ssize_t r ;
  enum check c ;
  while (*arg == ' ') arg++ ;
  n = strcspn(arg, " ") ;
  if (n == 5 && !strncasecmp(arg, "PLAIN", 5))
  {
    char const *authzid ;
    size_t zl ;
    mech = "PLAIN" ;
    r = arg[n] ? response(in, arg + n + 1) : ask(in, "") ;
    if (r < 0) return 0 ;
    /* authzid NUL authcid NUL password: an authzid, if any, must be
       the authcid (we act for no one else) */
    authzid = in ;
    zl = strnlen(in, (size_t)r) ;
    if (zl + 1 >= (size_t)r) goto malformed ;
    login = in + zl + 1 ;
    ll = strnlen(login, (size_t)r - zl - 1) ;
    if (zl + 1 + ll + 1 > (size_t)r) goto malformed ;
    pass = login + ll + 1 ;
    pl = (size_t)r - zl - ll - 2 ;
    if (zl && (zl != ll || memcmp(authzid, login, ll))) goto malformed ;
  }
  else if (n == 5 && !strncasecmp(arg, "LOGIN", 5))
  {
    mech = "LOGIN" ;
    r = arg[n] ? response(in, arg + n + 1) : ask(in, "VXNlcm5hbWU6") ;  /* Username: */
    if (r < 0) return 0 ;
    login = in ; ll = (size_t)r ;
    r = ask(pw, "UGFzc3dvcmQ6") ;  /* Password: */
    if (r < 0) return 0 ;
    pass = pw ; pl = (size_t)r ;
  }
  else
  {
    smtpd_reply("504", "5.5.4", "unrecognized authentication type; PLAIN and LOGIN are") ;
    return 0 ;
  }
  if (!ll || ll > SMTPD_LOGIN_MAX || pl > SMTPD_PASSWORD_MAX || memchr(login, 0, ll) || memchr(pass, 0, pl))
    goto malformed ;
  c = check(login, ll, pass, pl) ;
  {
    /* the password is gone; the login, at the start of in or after the
       authzid, stays for the log */
    size_t keep = (size_t)(login - in) + ll ;
    explicit_bzero(in + keep, sizeof in - keep) ;
    explicit_bzero(pw, sizeof pw) ;
  }
  if (c == CHECK_OK)
  {
    memcpy(smtpd_auth_user, login, ll) ;
    smtpd_auth_user[ll] = 0 ;
    log_auth(mech, login, ll, "ok") ;
    smtpd_reply("235", "2.7.0", "authentication successful") ;
    return 1 ;
  }
  if (c == CHECK_TEMP)
  {
    log_auth(mech, login, ll, "temporary failure of the password check") ;
    smtpd_reply("454", "4.7.0", "temporary authentication failure") ;
    return 0 ;
  }
  log_auth(mech, login, ll, "failed") ;
  fails++ ;
  /* a guesser gets few tries, and slowly */
  smtpd_flush() ;
  pause_ms(smtpd_config.authdelay) ;
  if (fails >= smtpd_config.authmaxfail)
    smtpd_bye("4.7.0", "too many failed authentications, closing", "too many failed authentications") ;
  smtpd_reply("535", "5.7.8", "authentication credentials invalid") ;
  return 0 ;
 malformed:
  explicit_bzero(in, sizeof in) ;
  explicit_bzero(pw, sizeof pw) ;
  smtpd_reply("501", "5.5.2", "malformed authentication response") ;
  return 0 ;
}
