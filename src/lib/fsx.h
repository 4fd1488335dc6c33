#ifndef POSTERN_FSX_H
#define POSTERN_FSX_H

/* rename(2): libc declares it in <stdio.h>, which postern never includes */
extern int fsx_rename (char const *from, char const *to) ;

#endif
