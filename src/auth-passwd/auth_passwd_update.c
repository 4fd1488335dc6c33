#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/file.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "auth.h"
#include "auth_passwd.h"
#include "fsx.h"
#include "table.h"

struct paths { stralloc dir, text, texttmp, cdb, cdbtmp ; } ;

static void path (stralloc *sa, char const *home, char const *name)
{
  if (!stralloc_copys(sa, home) || !stralloc_cats(sa, "/") || !stralloc_cats(sa, name)
   || !stralloc_0(sa))
    strerr_diefu1sys(111, "allocate") ;
}

static int blank (char c)
{
  return c == ' ' || c == '\t' ;
}

/* 1 if the line s (n bytes) is login's entry: its key, lowercased as
   table-compile does, is login (lowercase already) */
static int is_login (char const *s, size_t n, char const *login, size_t len)
{
  size_t i = 0, k ;
  while (i < n && blank(s[i])) i++ ;
  for (k = i ; i < n && !blank(s[i]) ; i++) ;
  if (i - k != len) return 0 ;
  for (size_t j = 0 ; j < len ; j++)
  {
    char c = s[k + j] ;
    if (c >= 'A' && c <= 'Z') c += 32 ;
    if (c != login[j]) return 0 ;
  }
  return 1 ;
}

/* the new text: old's lines, login's replaced by "login hash" (or
   dropped if hash is null; appended if there was none) */
static int edit (stralloc *out, stralloc const *old, char const *login, size_t len, char const *hash)
{
  size_t pos = 0 ;
  int found = 0 ;
  while (pos < old->len)
  {
    char const *s = old->s + pos ;
    size_t n = 0 ;
    while (pos + n < old->len && s[n] != '\n') n++ ;
    pos += n + 1 ;
    if (is_login(s, n, login, len))
    {
      if (hash && !found
       && !(stralloc_catb(out, login, len) && stralloc_catb(out, " ", 1)
            && stralloc_cats(out, hash) && stralloc_catb(out, "\n", 1)))
        return -1 ;
      found = 1 ;
    }
    else if (!stralloc_catb(out, s, n) || !stralloc_catb(out, "\n", 1)) return -1 ;
  }
  if (hash && !found
   && !(stralloc_catb(out, login, len) && stralloc_catb(out, " ", 1)
        && stralloc_cats(out, hash) && stralloc_catb(out, "\n", 1)))
    return -1 ;
  return found ;
}

void auth_passwd_update (char const *home, char const *login, size_t len, char const *hash)
{
  struct paths p = { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO } ;
  stralloc old = STRALLOC_ZERO ;
  stralloc text = STRALLOC_ZERO ;
  int dirfd, fd, found ;
  path(&p.dir, home, AUTH_DIR) ;
  path(&p.text, home, AUTH_PASSWORDS) ;
  path(&p.texttmp, home, AUTH_PASSWORDS ".tmp") ;
  path(&p.cdb, home, AUTH_PASSWORDS_CDB) ;
  path(&p.cdbtmp, home, AUTH_PASSWORDS_CDB ".tmp") ;
  /* one auth-passwd at a time: two would each rewrite the text from
     the same old one, and one change would be lost */
  dirfd = open(p.dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (dirfd < 0) strerr_diefu2sys(111, "open ", p.dir.s) ;
  if (flock(dirfd, LOCK_EX) < 0) strerr_diefu2sys(111, "lock ", p.dir.s) ;
  if (!openslurpclose(&old, p.text.s) && errno != ENOENT) strerr_diefu2sys(111, "read ", p.text.s) ;
  found = edit(&text, &old, login, len, hash) ;
  if (found < 0) strerr_diefu1sys(111, "allocate") ;
  if (!hash && !found) strerr_dief4x(100, "no login ", login, " in ", p.text.s) ;
  /* leftovers of a crashed run: we hold the lock, no one else's */
  if ((unlink(p.texttmp.s) < 0 && errno != ENOENT) || (unlink(p.cdbtmp.s) < 0 && errno != ENOENT))
    strerr_diefu2sys(111, "remove an old temporary file in ", p.dir.s) ;
  /* 0600 whatever the umask: the hashes are the auth account's alone */
  fd = open(p.texttmp.s, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600) ;
  if (fd < 0) strerr_diefu2sys(111, "create ", p.texttmp.s) ;
  if (fchmod(fd, 0600) < 0) table_compile_die(p.texttmp.s, "chmod ", p.texttmp.s) ;
  if (allwrite(fd, text.s, text.len) < text.len) table_compile_die(p.texttmp.s, "write ", p.texttmp.s) ;
  /* else a crash after the rename can leave the text short or empty */
  if (fsync(fd) < 0) table_compile_die(p.texttmp.s, "fsync ", p.texttmp.s) ;
  if (lseek(fd, 0, SEEK_SET) < 0) table_compile_die(p.texttmp.s, "seek in ", p.texttmp.s) ;
  /* compiled before either rename: a hand-made error in the text
     leaves both files as they were */
  if (table_compile(fd, p.text.s, p.cdbtmp.s))
  {
    unlink(p.texttmp.s) ;
    strerr_dief2x(100, p.text.s, " is malformed: nothing changed; fix it by hand, then run auth-passwd again") ;
  }
  fd_close(fd) ;
  /* the text first: it is the source, and a crash between the two
     renames leaves a table that the next run rebuilds from it */
  if (fsx_rename(p.texttmp.s, p.text.s) < 0) table_compile_die(p.texttmp.s, "rename to ", p.text.s) ;
  if (fsx_rename(p.cdbtmp.s, p.cdb.s) < 0) table_compile_die(p.cdbtmp.s, "rename to ", p.cdb.s) ;
  /* else a crash can bring back the old files */
  if (fsx_syncdir(p.dir.s) < 0) strerr_diefu2sys(111, "fsync directory ", p.dir.s) ;
  fd_close(dirfd) ;
}
