#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cdb.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include "table.h"

unsigned int table_compile (int fd, char const *file, char const *tmp)
{
  struct cdb_make cm ;
  struct stat st ;
  unsigned int errors ;
  int out ;
  if (fstat(fd, &st) < 0) strerr_diefu2sys(111, "stat ", file) ;
  /* O_EXCL: a same-named file is another run's (or a crashed run's),
     never ours to overwrite */
  out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) ;
  if (out < 0) strerr_diefu2sys(111, "create ", tmp) ;
  if (cdb_make_start(&cm, out) < 0) table_compile_die(tmp, "write ", tmp) ;
  errors = table_compile_read(fd, file, &cm, tmp) ;
  if (errors)
  {
    fd_close(out) ;
    unlink(tmp) ;
    return errors ;
  }
  if (cdb_make_finish(&cm) < 0) table_compile_die(tmp, "write ", tmp) ;
  /* the table is as readable as its text (control/users and aliases
     are 0640, group smtpd's: they list every user's ids and home) */
  if (st.st_gid != getegid() && fchown(out, -1, st.st_gid) < 0) table_compile_die(tmp, "give the group of ", file) ;
  if (fchmod(out, st.st_mode & 0666) < 0) table_compile_die(tmp, "chmod ", tmp) ;
  /* else a crash after the rename can leave the table short or empty */
  if (fsync(out) < 0) table_compile_die(tmp, "fsync ", tmp) ;
  fd_close(out) ;
  return 0 ;
}
