#ifndef POSTERN_ROUTE_H
#define POSTERN_ROUTE_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include "addr.h"

/* Where a recipient goes, by its domain (what follows its last '@'):
   control/locals.cdb holds the local domains; control/virtualdomains.cdb
   maps a virtual domain to a prefix of local names (record(8), smtpd(8)).
   Paths are relative to the home, every program's cwd. */
#define ROUTE_LOCALS "control/locals.cdb"
#define ROUTE_VIRTUALS "control/virtualdomains.cdb"
/* a local name: the local part, or a virtual domain's prefix, '-' and
   the local part (state.h keeps as many) */
#define ROUTE_LOCALNAME_MAX 256

enum route_kind { ROUTE_NONE = 0, ROUTE_LOCAL, ROUTE_VIRTUAL, ROUTE_REMOTE } ;

/* The last domain looked up, so that recipients at one domain cost one
   lookup: reset it when the tables may have changed (per message). */
typedef struct route_s route, *route_ref ;
struct route_s
{
  enum route_kind kind ;   /* of dom; ROUTE_NONE: nothing cached */
  size_t domlen ;
  char dom[ADDR_MAX] ;     /* lowercased */
  stralloc prefix ;        /* a virtual domain's prefix, as written */
  char const *table ;      /* after an error: the table that failed, or 0 */
} ;
#define ROUTE_ZERO { .kind = ROUTE_NONE, .domlen = 0, .prefix = STRALLOC_ZERO, .table = 0 }
#define route_reset(r) ((r)->kind = ROUTE_NONE)

/* Classifies the domain dom (len bytes, at most ADDR_MAX): sets r->kind,
   and r->prefix for a virtual domain. Returns 1, or 0 with errno and
   r->table set when a table cannot be read. */
extern int route_domain (route *r, char const *dom, size_t len) ;

/* Classifies the address addr (len bytes, at most ADDR_MAX). Returns
   ROUTE_LOCAL or ROUTE_VIRTUAL with the local name in local
   (ROUTE_LOCALNAME_MAX bytes, not NUL-terminated) and its length in *n;
   ROUTE_REMOTE with *n = 0; or ROUTE_NONE on error: r->table names the
   table that could not be read (errno set), or is 0 when the local name
   would be longer than ROUTE_LOCALNAME_MAX. An address without '@' is
   local, its local name the address lowercased. */
extern enum route_kind route_classify (route *r, char *local, size_t *n, char const *addr, size_t len) ;

/* control/routes.cdb (remote(8)): where a remote domain's mail goes
   instead of its MX */
#define ROUTE_STATIC "control/routes.cdb"
/* The static route of domain: its own entry, each parent's as
   ".parent", then "*". 1 and the value in v, 0 if none, -1 with errno. */
extern int route_static (char const *domain, stralloc *v) ;

#endif
