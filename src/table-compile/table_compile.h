#ifndef TABLE_COMPILE_H
#define TABLE_COMPILE_H

#include <cdb.h>

/* Reads the text table on fd (named file in messages), reporting each
   malformed line on stderr as "file:line: reason"; adds every entry to
   cm (writing tmp) until the first malformed line. Returns the number
   of malformed lines reported. Dies 111 on a system error. */
extern unsigned int table_compile_read (int fd, char const *file, struct cdb_make *cm, char const *tmp) ;

/* removes the temporary file, then dies 111: "unable to verb obj: error" */
extern void table_compile_die (char const *verb, char const *obj) __attribute__((noreturn)) ;

#endif
