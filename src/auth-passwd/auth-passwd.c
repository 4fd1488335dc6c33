/* auth-passwd: sets or removes a login's password for checkpw(8). Run
   by the administrator; as root it becomes the auth account first.
   Reads the password on fd 0 (never from argv or the environment);
   rewrites auth/passwords and auth/passwords.cdb. See auth-passwd(8). */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <crypt.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include "accounts.h"
#include "auth.h"
#include "auth_passwd.h"
#include "home.h"

#define USAGE "auth-passwd [ -d ] login"

static char pw[AUTH_PASSWORD_MAX + 1] ;
static struct crypt_data cd ;

/* as root: the auth account wholly, so that what it writes is that
   account's and nothing else is reachable */
static void become_auth (void)
{
  struct passwd *p ;
  if (geteuid()) return ;
  errno = 0 ;
  p = getpwnam(auto_user_auth) ;
  if (!p) strerr_dief3x(111, "unknown account ", auto_user_auth, " (the auth role of conf-users)") ;
  if (setgroups(0, 0) < 0 || setgid(p->pw_gid) < 0 || setuid(p->pw_uid) < 0)
    strerr_diefu2sys(111, "become ", auto_user_auth) ;
  if (!getuid() || !geteuid()) strerr_dief2x(101, "still root after becoming ", auto_user_auth) ;
}

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  char login[AUTH_LOGIN_MAX] ;
  char hash[CRYPT_OUTPUT_SIZE] ;
  int del = 0 ;
  size_t len ;
  PROG = "auth-passwd" ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "d", &l) ;
    if (opt == -1) break ;
    if (opt == 'd') del = 1 ;
    else strerr_dieusage(100, USAGE) ;
  }
  argc -= l.ind ; argv += l.ind ;
  if (argc != 1) strerr_dieusage(100, USAGE) ;
  len = strlen(argv[0]) ;
  if (!auth_login_valid(argv[0], len))
    strerr_dief1x(100, "bad login: 1 to 255 bytes, no blank, control character or ':', not starting with '#'") ;
  /* logins are looked up lowercased (table_lookup), so stored so */
  for (size_t i = 0 ; i < len ; i++)
    login[i] = argv[0][i] >= 'A' && argv[0][i] <= 'Z' ? argv[0][i] + 32 : argv[0][i] ;
  become_auth() ;
  if (del)
  {
    auth_passwd_update(home_dir(), login, len, 0) ;
    return 0 ;
  }
  {
    char salt[CRYPT_GENSALT_OUTPUT_SIZE] ;
    char const *out ;
    auth_passwd_read(pw) ;
    /* "$y$", count 0: yescrypt at libxcrypt's default cost, salt from
       the system's random source */
    if (!crypt_gensalt_rn("$y$", 0, 0, 0, salt, sizeof salt)) strerr_diefu1sys(111, "make a salt") ;
    out = crypt_rn(pw, salt, &cd, sizeof cd) ;
    explicit_bzero(pw, sizeof pw) ;
    if (!out || out[0] == '*' || strlen(out) >= sizeof hash) strerr_diefu1sys(111, "hash the password") ;
    memcpy(hash, out, strlen(out) + 1) ;
    explicit_bzero(&cd, sizeof cd) ;
  }
  auth_passwd_update(home_dir(), login, len, hash) ;
  return 0 ;
}
