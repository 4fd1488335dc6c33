/* recipients-compile: builds control/recipients.cdb (rcpt.h), the local
   names smtpd accepts, from what delivery would find: aliases, users of
   control/users.cdb and of the password database, and the .postern-EXT
   files in their homes. Run as root (it reads the homes), in the home;
   writes control/recipients.cdb.tmp.<pid>, then renames it over
   control/recipients.cdb. See recipients-compile(8). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/direntry.h>
#include <cdb.h>
#include <skalibs/bytestr.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "accounts.h"
#include "addr.h"
#include "control.h"
#include "fsx.h"
#include "home.h"
#include "rcpt.h"
#include "resolve.h"

#define USAGE "recipients-compile"
#define TMP RCPT_TABLE ".tmp."
/* an instruction file's name: ".postern-" and at most this */
#define EXT_MAX 255

static struct cdb_make cm ;
static char tmp[sizeof TMP + PID_FMT] ;
static int havetmp = 0 ;
static resolve_dest d = RESOLVE_DEST_ZERO ;

static void die (char const *verb, char const *obj)
{
  int e = errno ;
  if (havetmp) unlink(tmp) ;
  errno = e ;
  strerr_diefu2sys(111, verb, obj) ;
}

static void put (char const *k, size_t klen, char const *v, size_t vlen)
{
  if (cdb_make_add(&cm, k, klen, v, vlen) < 0) die("write ", tmp) ;
}

/* the user's .postern-X files as name NUL X records; 0 if the home
   could not be read (its extensions then all count) */
static int exts (char const *name, size_t len, char const *home)
{
  char key[ADDR_MAX + 1 + EXT_MAX] ;
  DIR *dir = opendir(home) ;
  if (!dir)
  {
    /* no home: lspawn defers every delivery there, extension or not */
    if (errno == ENOENT || errno == ENOTDIR) return 1 ;
    strerr_warnw3sys("unable to read the home of ", name, ": every extension counts") ;
    return 0 ;
  }
  memcpy(key, name, len) ;
  key[len] = 0 ;
  for (;;)
  {
    struct dirent *e ;
    size_t n ;
    errno = 0 ;
    e = readdir(dir) ;
    if (!e) break ;
    if (strncmp(e->d_name, ".postern-", 9)) continue ;
    n = strlen(e->d_name + 9) ;
    /* names local(8) never tries: empty, upper case, a '.' (made ':') */
    if (!n || n > EXT_MAX || strpbrk(e->d_name + 9, ".ABCDEFGHIJKLMNOPQRSTUVWXYZ")) continue ;
    memcpy(key + len + 1, e->d_name + 9, n) ;
    put(key, len + 1 + n, "", 0) ;
  }
  if (errno)
  {
    strerr_warnw3sys("unable to read the home of ", name, ": every extension counts") ;
    dir_close(dir) ;
    return 0 ;
  }
  dir_close(dir) ;
  return 1 ;
}

/* one name from any source: what resolve_alias and resolve_user say */
static void add (char const *s, size_t len)
{
  char name[ADDR_MAX + 1] ;
  char v[4] ;
  size_t n = 0 ;
  int r ;
  if (!len || len > ADDR_MAX || memchr(s, 0, len)) return ;
  memcpy(name, s, len) ;
  name[len] = 0 ;
  case_lowerb(name, len) ;
  r = cdb_make_exists(&cm, name, len) ;
  if (r < 0) die("read ", tmp) ;
  if (r) return ;
  r = resolve_alias(&d, name, len) ;
  /* a malformed entry defers delivery: accept, as for a good one */
  if (r < 0) { strerr_warnw2sys("unable to look up alias ", name) ; }
  /* one lspawn would bounce (a loop, past a limit) is refused at RCPT */
  if (r > 0)
  {
    int x = resolve_expand(&d, name, len) ;
    if (x == -1) strerr_warnw2sys("unable to expand alias ", name) ;
    else if (x <= 0)
    {
      strerr_warnw3x("alias ", name, x ? " expands past the limits of lspawn(8): refused" : " loops: refused") ;
      return ;  /* a user by that name never gets it either */
    }
  }
  if (r) v[n++] = RCPT_ALIAS ;
  r = resolve_user(&d, name, len) ;
  if (r < 0)
  {
    strerr_warnw2sys("unable to look up user ", name) ;
    v[n++] = RCPT_USER ; v[n++] = RCPT_ANYEXT ;
  }
  else if (r && !d.uid) v[n++] = RCPT_ROOTUSER ;
  else if (r)
  {
    v[n++] = RCPT_USER ;
    if (!exts(name, len, resolve_str(&d, home))) v[n++] = RCPT_ANYEXT ;
  }
  if (n) put(name, len, v, n) ;
}

/* every key of a table made by table-compile(8); none if it is absent */
static void keys (char const *path)
{
  struct cdb c ;
  unsigned int pos ;
  int fd = open(path, O_RDONLY | O_CLOEXEC), r ;
  if (fd < 0)
  {
    if (errno == ENOENT) return ;
    die("open ", path) ;
  }
  if (cdb_init(&c, fd) < 0) die("read ", path) ;
  cdb_seqinit(&pos, &c) ;
  while ((r = cdb_seqnext(&pos, &c)) > 0)
  {
    char key[ADDR_MAX] ;
    unsigned int n = cdb_keylen(&c) ;
    if (n > ADDR_MAX) continue ;  /* never a local name resolve_local takes */
    if (cdb_read(&c, key, n, cdb_keypos(&c)) < 0) die("read ", path) ;
    add(key, n) ;
  }
  if (r < 0) die("read ", path) ;
  cdb_free(&c) ;
  fd_close(fd) ;
}

/* the new table (fd) is the old one byte for byte, with the same
   owner and mode */
static int same (int fd)
{
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO ;
  struct stat sa, sb ;
  int r = 0 ;
  if (fstat(fd, &sa) < 0) die("stat ", tmp) ;
  if (stat(RCPT_TABLE, &sb) < 0)
  {
    if (errno != ENOENT) die("stat ", RCPT_TABLE) ;
    return 0 ;
  }
  if (sa.st_size != sb.st_size || sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid
   || (sa.st_mode & 07777) != (sb.st_mode & 07777))
    return 0 ;
  if (!openslurpclose(&a, tmp)) die("read ", tmp) ;
  if (!openslurpclose(&b, RCPT_TABLE)) die("read ", RCPT_TABLE) ;
  r = a.len == b.len && !memcmp(a.s, b.s, a.len) ;
  stralloc_free(&a) ;
  stralloc_free(&b) ;
  return r ;
}

int main (int argc, char const *const *argv)
{
  struct passwd *pw ;
  int fd ;
  (void)argv ;
  PROG = "recipients-compile" ;
  if (argc != 1) strerr_dieusage(100, USAGE) ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  memcpy(tmp, TMP, sizeof TMP - 1) ;
  tmp[sizeof TMP - 1 + pid_fmt(tmp + sizeof TMP - 1, getpid())] = 0 ;
  /* O_EXCL: a same-named file is another run's, never ours to overwrite;
     O_RDWR: cdb_make_exists reads back what is written */
  fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640) ;
  if (fd < 0) strerr_diefu2sys(111, "create ", tmp) ;
  havetmp = 1 ;
  if (cdb_make_start(&cm, fd) < 0) die("write ", tmp) ;
  keys(RESOLVE_ALIASES) ;
  keys(RESOLVE_USERS) ;
  setpwent() ;
  for (;;)
  {
    errno = 0 ;
    pw = getpwent() ;
    if (!pw) break ;
    add(pw->pw_name, strlen(pw->pw_name)) ;
  }
  /* ENOENT and friends: the end of the database, as for getpwnam */
  if (errno && errno != ENOENT && errno != ESRCH) die("read ", "the password database") ;
  endpwent() ;
  if (cdb_make_finish(&cm) < 0) die("write ", tmp) ;
  /* smtpd reads it, as its account; others never need the names */
  if (!getuid())
  {
    pw = getpwnam(auto_user_smtpd) ;
    if (!pw) strerr_warnw3x("no account ", auto_user_smtpd, ": the table is root's alone") ;
    else if (fchown(fd, 0, pw->pw_gid) < 0) die("chown ", tmp) ;
  }
  if (fchmod(fd, 0640) < 0) die("chmod ", tmp) ;
  if (same(fd))
  {
    /* nothing changed: no write, no fsync, the old file's time kept */
    fd_close(fd) ;
    unlink(tmp) ;
    return 0 ;
  }
  /* else a crash after the rename can leave it short or empty */
  if (fsync(fd) < 0) die("fsync ", tmp) ;
  fd_close(fd) ;
  if (fsx_rename(tmp, RCPT_TABLE) < 0) die("rename to ", RCPT_TABLE) ;
  havetmp = 0 ;
  if (fsx_syncdir(CONTROL_DIR) < 0) strerr_diefu2sys(111, "fsync directory ", CONTROL_DIR) ;
  return 0 ;
}
