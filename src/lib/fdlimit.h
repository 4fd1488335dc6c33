#ifndef POSTERN_FDLIMIT_H
#define POSTERN_FDLIMIT_H
/* A spawner holds a descriptor or two per running job: raises the soft
   limit of open files to want (or the hard limit, if lower); warns if it
   cannot. Children inherit the limit, harmlessly. */
extern void fdlimit_raise (unsigned long want) ;
#endif
