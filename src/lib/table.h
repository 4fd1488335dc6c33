#ifndef POSTERN_TABLE_H
#define POSTERN_TABLE_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Tables are cdb files built by table-compile from control/<name>
   (see table-compile(8)). Keys are stored lowercased. */
#define TABLE_KEY_MAX 1024
#define TABLE_VALUE_MAX 4096

/* Looks key up in the cdb at path, opened for this lookup only so a
   rebuilt table is seen at once. key is lowercased before lookup.
   Returns 1 and the value in sa (replacing its contents) if found,
   0 if not found or the file does not exist, -1 with errno on error. */
extern int table_lookup (char const *path, char const *key, size_t keylen, stralloc *sa) ;
/* The same in the cdb open on fd (left open): for a caller that must
   tell a missing table from a missing key. */
extern int table_lookup_fd (int fd, char const *key, size_t keylen, stralloc *sa) ;

/* Compiling a text table (table-compile(8)'s format), shared by
   table-compile and auth-passwd. Each dies 111 on a system error,
   having removed tmp (if not null): "unable to verb obj". */
struct cdb_make ;
/* Compiles the text table on fd (named file in messages) into tmp,
   created exclusively with fd's read and write mode bits and group,
   then fsynced; the caller renames it and fsyncs the directory.
   Returns 0, or the number of malformed lines reported on stderr as
   "file:line: reason" (tmp is then removed). */
extern unsigned int table_compile (int fd, char const *file, char const *tmp) ;
/* Reads the text table on fd, reporting each malformed line on stderr;
   adds every entry to cm (writing tmp) until the first malformed line.
   Returns the number of malformed lines reported. */
extern unsigned int table_compile_read (int fd, char const *file, struct cdb_make *cm, char const *tmp) ;
extern void table_compile_die (char const *tmp, char const *verb, char const *obj) __attribute__((noreturn)) ;

/* A table keyed by domain (control/routes.cdb, control/tlsroutes.cdb):
   domain itself, then each parent as ".parent", longest first, then
   "*". Returns as table_lookup. */
extern int table_lookup_domain (char const *path, char const *domain, stralloc *v) ;

#endif
