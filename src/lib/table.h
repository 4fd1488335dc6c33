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

/* A table keyed by domain (control/routes.cdb, control/tlsroutes.cdb):
   domain itself, then each parent as ".parent", longest first, then
   "*". Returns as table_lookup. */
extern int table_lookup_domain (char const *path, char const *domain, stralloc *v) ;

#endif
