#ifndef POSTERN_TCPRULES_H
#define POSTERN_TCPRULES_H

#include <skalibs/stralloc.h>

/* the most a rule's value may hold (its variables) */
#define TCPRULES_VALUE_MAX 4096

/* tcprules' cdb at path for the client at ip, as tcpserver -x -H reads
   it. Returns 1 (allow: the rule's NAME=value NUL items appended to
   vars), 0 (deny), -1 with errno (unreadable; ENOENT: no such file) */
extern int tcprules_lookup (char const *path, char const *ip, stralloc *vars) ;

#endif
