/* table-compile: compiles the text table named on the command line into
   file.cdb beside it, read by table_lookup(). Run by the administrator,
   no privileges. Reads file; writes file.cdb.tmp.<pid> with file's mode
   and group, then renames it over file.cdb. Format, limits and exit
   codes in table-compile(8). */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cdb.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "fsx.h"
#include "table_compile.h"

#define USAGE "table-compile file"

static stralloc tmp = STRALLOC_ZERO ;
static int havetmp = 0 ;

void table_compile_die (char const *verb, char const *obj)
{
  int e = errno ;
  if (havetmp) unlink(tmp.s) ;
  errno = e ;
  strerr_diefu2sys(111, verb, obj) ;
}

/* the directory holding path, into sa, NUL-terminated */
static int dir_of (stralloc *sa, char const *path)
{
  char const *slash = strrchr(path, '/') ;
  if (!slash) return stralloc_copys(sa, ".") && stralloc_0(sa) ;
  return stralloc_copyb(sa, path, slash == path ? 1 : (size_t)(slash - path)) && stralloc_0(sa) ;
}

int main (int argc, char const *const *argv)
{
  stralloc cdb = STRALLOC_ZERO ;
  stralloc dir = STRALLOC_ZERO ;
  struct cdb_make cm ;
  struct stat st ;
  char pid[PID_FMT] ;
  char const *file ;
  unsigned int errors ;
  int in, out ;
  PROG = "table-compile" ;
  if (argc != 2 || !argv[1][0]) strerr_dieusage(100, USAGE) ;
  file = argv[1] ;
  if (!stralloc_cats(&cdb, file) || !stralloc_cats(&cdb, ".cdb") || !stralloc_0(&cdb)
   || !stralloc_copyb(&tmp, cdb.s, cdb.len - 1) || !stralloc_cats(&tmp, ".tmp.")
   || !stralloc_catb(&tmp, pid, pid_fmt(pid, getpid())) || !stralloc_0(&tmp)
   || !dir_of(&dir, file))
    strerr_diefu1sys(111, "allocate") ;
  in = open(file, O_RDONLY | O_CLOEXEC) ;
  if (in < 0) strerr_diefu2sys(111, "open ", file) ;
  if (fstat(in, &st) < 0) strerr_diefu2sys(111, "stat ", file) ;
  /* O_EXCL: a same-named file is another run's (or a crashed run's),
     never ours to overwrite */
  out = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) ;
  if (out < 0) strerr_diefu2sys(111, "create ", tmp.s) ;
  havetmp = 1 ;
  if (cdb_make_start(&cm, out) < 0) table_compile_die("write ", tmp.s) ;
  errors = table_compile_read(in, file, &cm, tmp.s) ;
  fd_close(in) ;
  if (errors)
  {
    unlink(tmp.s) ;
    strerr_dief4x(100, file, " is malformed: ", cdb.s, " left unchanged") ;
  }
  if (cdb_make_finish(&cm) < 0) table_compile_die("write ", tmp.s) ;
  /* the table is as readable as its text (control/users and aliases
     are 0640, group smtpd's: they list every user's ids and home) */
  if (st.st_gid != getegid() && fchown(out, -1, st.st_gid) < 0) table_compile_die("give the group of ", file) ;
  if (fchmod(out, st.st_mode & 0666) < 0) table_compile_die("chmod ", tmp.s) ;
  /* else a crash after the rename can leave file.cdb short or empty */
  if (fsync(out) < 0) table_compile_die("fsync ", tmp.s) ;
  fd_close(out) ;
  if (fsx_rename(tmp.s, cdb.s) < 0) table_compile_die("rename to ", cdb.s) ;
  havetmp = 0 ;
  /* else a crash can bring back the old table (or the temporary name) */
  if (fsx_syncdir(dir.s) < 0) strerr_diefu2sys(111, "fsync directory ", dir.s) ;
  return 0 ;
}
