#ifndef POSTERN_FSX_H
#define POSTERN_FSX_H

/* rename(2): libc declares it in <stdio.h>, which postern never includes */
extern int fsx_rename (char const *from, char const *to) ;

/* fsync a directory by path, after a create, rename or unlink in it
   must survive a crash; -1 with errno on failure */
extern int fsx_syncdir (char const *dir) ;

/* syncfs(2) of the filesystem holding path: one group commit for many
   files and directories written there (data, names and unlinks alike),
   instead of an fsync each; -1 with errno on failure (Linux 5.8 and
   later report writeback errors here) */
extern int fsx_syncfs (char const *path) ;

#endif
