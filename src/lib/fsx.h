#ifndef POSTERN_FSX_H
#define POSTERN_FSX_H

/* rename(2): libc declares it in <stdio.h>, which postern never includes */
extern int fsx_rename (char const *from, char const *to) ;

/* fsync a directory by path, after a create, rename or unlink in it
   must survive a crash; -1 with errno on failure */
extern int fsx_syncdir (char const *dir) ;

#endif
