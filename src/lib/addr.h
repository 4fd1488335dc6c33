#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <stddef.h>

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets, <> included, so an
   address is at most 254; we allow the 256 the path may hold. */
#define ADDR_MAX 256
/* RFC 5321 4.5.3.1.1 and 4.5.3.1.2 */
#define ADDR_LOCAL_MAX 64
#define ADDR_DOMAIN_MAX 255

enum addr_error
{
  ADDR_OK = 0,
  ADDR_ETOOLONG,  /* over ADDR_MAX */
  ADDR_ECONTROL   /* NUL, CR, LF or another control character */
} ;

/* The checks every stored address passes: length and no control byte
   (so no address can forge a header line when it is written into one). */
extern enum addr_error addr_check (char const *s, size_t len) ;

/* What makes two recipients the same (duplicates are merged before
   queueing): d gets s (len bytes) with its domain, after the last '@',
   lowercased (RFC 5321 2.4), and its local part too if local, the
   domain being ours (local delivery looks names up case-insensitively,
   lspawn(8)); a remote local part stays exact. */
extern void addr_key (char *d, char const *s, size_t len, int local) ;

#endif
