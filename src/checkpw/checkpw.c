/* checkpw: the checkpassword interface over auth/passwords.cdb. Runs
   setuid to the auth account, started by smtpd's account. Reads
   login\0password\0timestamp\0 on fd 3; a good password: execs prog
   with the caller's ids. Writes nothing but "checkpw: " error lines on
   fd 2, never the password. Codes and format in checkpw(8). */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <crypt.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "auth.h"
#include "home.h"
#include "table.h"

#define USAGE "checkpw prog..."
/* a check takes one crypt (about 0.1 s); a writer that never closes
   fd 3 must not keep the process forever */
#define LIFETIME 60

/* an unknown login costs the crypt of this hash: yescrypt with
   libxcrypt's default cost, as auth-passwd writes them */
static char const dummy[] = "$y$j9T$7INK2fSwrdiro/yqLORtu0$briPLxMzDpSPNZmRlCY8QIlfv7bW6IDbwqwL6mKXW94" ;

/* + 1: a byte past the limit tells a too long input from a full one */
static char input[AUTH_INPUT_MAX + 1] ;
static struct crypt_data cd ;
static char stored[CRYPT_OUTPUT_SIZE] ;
static char computed[CRYPT_OUTPUT_SIZE] ;

static void clear (void)
{
  explicit_bzero(input, sizeof input) ;
  explicit_bzero(&cd, sizeof cd) ;
  explicit_bzero(computed, sizeof computed) ;
}

static void die (int code, char const *what, char const *obj)
{
  int e = errno ;
  clear() ;
  errno = e ;
  if (code == 111) strerr_diefu2sys(code, what, obj) ;
  strerr_dief2x(code, what, obj) ;
}

/* reads fd 3 to its end; returns the number of bytes, at most
   AUTH_INPUT_MAX + 1 */
static size_t readinput (void)
{
  size_t n = 0 ;
  while (n < sizeof input)
  {
    ssize_t r = read(3, input + n, sizeof input - n) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r < 0 && errno == EBADF) die(2, "fd 3 is not open for reading", "") ;
    if (r < 0) die(111, "read ", "fd 3") ;
    if (!r) break ;
    n += r ;
  }
  return n ;
}

/* the hash stored for login (len bytes) into stored; 1 if there is
   one, 0 if the login is unknown or invalid */
static int lookup (char const *login, size_t len)
{
  stralloc path = STRALLOC_ZERO ;
  stralloc value = STRALLOC_ZERO ;
  int fd, r = 0 ;
  if (!stralloc_cats(&path, home_dir()) || !stralloc_cats(&path, "/" AUTH_PASSWORDS_CDB)
   || !stralloc_0(&path))
    die(111, "allocate", "") ;
  /* missing is temporary: the table is being installed, or lost */
  fd = open(path.s, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) die(111, "open ", path.s) ;
  if (auth_login_valid(login, len)) r = table_lookup_fd(fd, login, len, &value) ;
  if (r < 0) die(111, "read ", path.s) ;
  fd_close(fd) ;
  if (r && (value.len >= sizeof stored || memchr(value.s, 0, value.len)))
  {
    strerr_warnw2x("malformed hash for a login in ", path.s) ;
    r = 0 ;
  }
  if (r)
  {
    memcpy(stored, value.s, value.len) ;
    stored[value.len] = 0 ;
  }
  stralloc_free(&value) ;
  stralloc_free(&path) ;
  return r ;
}

/* crypt of password with setting into computed; 0 if the setting is
   not a hash libxcrypt knows */
static int hash (char const *password, char const *setting)
{
  char const *out = crypt_rn(password, setting, &cd, sizeof cd) ;
  if (!out || out[0] == '*')
  {
    if (out || errno == EINVAL || errno == ERANGE) return 0 ;
    die(111, "compute ", "a hash") ;
  }
  memset(computed, 0, sizeof computed) ;
  memcpy(computed, out, strnlen(out, sizeof computed - 1)) ;
  return 1 ;
}

/* every byte compared, whatever differs first */
static int same (void)
{
  unsigned char d = 0 ;
  for (size_t i = 0 ; i < sizeof computed ; i++) d |= computed[i] ^ stored[i] ;
  return !d ;
}

int main (int argc, char const *const *argv)
{
  char const *login, *password ;
  size_t n, loginlen, passlen ;
  int good ;
  uid_t uid = getuid() ;
  gid_t gid = getgid() ;
  PROG = "checkpw" ;
  alarm(LIFETIME) ;
  if (argc < 2) strerr_dieusage(2, USAGE) ;
  n = readinput() ;
  fd_close(3) ;
  if (n > AUTH_INPUT_MAX) die(2, "input on fd 3 longer than 512 bytes", "") ;
  login = input ;
  loginlen = strnlen(login, n) ;
  if (loginlen == n) die(2, "input on fd 3 has no NUL after the login", "") ;
  password = input + loginlen + 1 ;
  passlen = strnlen(password, n - loginlen - 1) ;
  if (loginlen + 1 + passlen == n) die(2, "input on fd 3 has no NUL after the password", "") ;
  /* an unknown login, or a stored hash libxcrypt refuses (a locked
     "!..." or "*"), costs the same crypt as a known one */
  good = lookup(login, loginlen) ;
  if (!good || !hash(password, stored))
  {
    good = 0 ;
    hash(password, dummy) ;
  }
  good = same() && good && passlen ;
  clear() ;
  if (!good) return 1 ;
  alarm(0) ;
  /* setuid: prog runs as the caller alone (real, effective and saved) */
  if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
    strerr_diefu1sys(111, "drop the auth account's privileges") ;
  exec(argv + 1) ;
  strerr_dieexec(111, argv[1]) ;
}
