/* table-compile: compiles the text table named on the command line into
   file.cdb beside it, read by table_lookup(). Run by the administrator,
   no privileges. Reads file; writes file.cdb.tmp.<pid> with file's mode
   and group, then renames it over file.cdb. Format, limits and exit
   codes in table-compile(8). */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "fsx.h"
#include "table.h"

#define USAGE "table-compile file"

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
  stralloc tmp = STRALLOC_ZERO ;
  stralloc dir = STRALLOC_ZERO ;
  char pid[PID_FMT] ;
  char const *file ;
  int in ;
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
  if (table_compile(in, file, tmp.s))
    strerr_dief4x(100, file, " is malformed: ", cdb.s, " left unchanged") ;
  fd_close(in) ;
  if (fsx_rename(tmp.s, cdb.s) < 0) table_compile_die(tmp.s, "rename to ", cdb.s) ;
  /* else a crash can bring back the old table (or the temporary name) */
  if (fsx_syncdir(dir.s) < 0) strerr_diefu2sys(111, "fsync directory ", dir.s) ;
  return 0 ;
}
