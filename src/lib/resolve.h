#ifndef POSTERN_RESOLVE_H
#define POSTERN_RESOLVE_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>

/* Where a local name goes (resolution order in lspawn(8)). Lookups only,
   no side effect, so smtpd can check a recipient with the same code.
   Paths are relative to the home, every program's cwd. */
#define RESOLVE_ALIASES "control/aliases.cdb"
#define RESOLVE_USERS "control/users.cdb"
/* control/delimiters: the characters that may end a user's part of a
   local name, the extension following (qmail's '-', and '+'); absent:
   RESOLVE_DELIMS, empty: none. At most RESOLVE_DELIMS_MAX of them. */
#define RESOLVE_DELIMS_FILE "delimiters"
#define RESOLVE_DELIMS "-+"
#define RESOLVE_DELIMS_MAX 32

enum resolve_kind { RESOLVE_NONE = 0, RESOLVE_ALIAS, RESOLVE_USER } ;

/* Strings are NUL-terminated in sa, at the given offsets (sa may move):
   USER: account, home, ext; ALIAS: addrs, the addresses joined by ','. */
typedef struct resolve_dest_s resolve_dest, *resolve_dest_ref ;
struct resolve_dest_s
{
  enum resolve_kind kind ;
  uid_t uid ;
  gid_t gid ;
  size_t account ;
  size_t home ;
  size_t ext ;
  size_t addrs ;
  stralloc sa ;
} ;
#define RESOLVE_DEST_ZERO { .kind = RESOLVE_NONE, .sa = STRALLOC_ZERO }
#define resolve_str(d, field) ((d)->sa.s + (d)->field)

/* Resolves a local name (case-insensitive; longer than ADDR_MAX is
   unknown). Returns 1 and fills d if found, 0 if unknown, -1 with errno
   on a temporary error (EINVAL: a malformed table entry). */
extern int resolve_local (resolve_dest *d, char const *localname, size_t len) ;

/* control/delimiters into d (RESOLVE_DELIMS_MAX + 1 bytes, NUL-ended):
   1, or -1 with errno (EINVAL: too long, or a NUL or blank in it) */
extern int resolve_delims (char *d) ;

/* The names a user's instruction file for a non-empty extension may
   have after ".postern-" (local(8)), most specific first: the extension,
   then PREFIX-default for each shorter prefix cut at '-', then default;
   lowercased, '.' and '/' written ':' (qmail's rule). *next starts at 0;
   each call writes the next name into sa from offset base, NUL-ended,
   and returns 1; 0 when none is left; -1 out of memory. */
extern int resolve_ext_next (stralloc *sa, size_t base, char const *ext, size_t len, size_t *next) ;
#define RESOLVE_EXT_DONE ((size_t)-1)

/* An alias's addresses, expanded: what one message to an alias may fan
   out to. RESOLVE_EXPAND_MAX addresses at most (one queue-inject run,
   one argument of local -a: 256 x 257 bytes < 128 KiB); aliases nested
   RESOLVE_EXPAND_DEPTH deep at most; RESOLVE_EXPAND_LOOKUPS aliases
   looked up at most (a cdb open each). */
#define RESOLVE_EXPAND_MAX 256
#define RESOLVE_EXPAND_DEPTH 10
#define RESOLVE_EXPAND_LOOKUPS 1000
#define RESOLVE_EXPAND_TOOMANY (-2)
#define RESOLVE_EXPAND_TOODEEP (-3)

/* Replaces the addresses of the alias d (the local name self, len bytes)
   by their expansion: an address at a local or virtual domain
   (route_classify) whose local name is an alias gives that alias's
   addresses in its place, and so on; every address is kept once (a
   local one by its local name, self counting as seen). Returns how many
   are left, 0 if every one led back to an alias already expanded (a
   loop); RESOLVE_EXPAND_TOOMANY or RESOLVE_EXPAND_TOODEEP past the
   limits above; -1 with errno on a lookup error. */
extern int resolve_expand (resolve_dest *d, char const *self, size_t len) ;

/* The steps of resolve_local, each with the same return convention.
   name is lowercased already. */
/* control/aliases.cdb: sets kind, addrs */
extern int resolve_alias (resolve_dest *d, char const *name, size_t len) ;
/* control/users.cdb, then getpwnam: sets kind, uid, gid, account, home */
extern int resolve_user (resolve_dest *d, char const *name, size_t len) ;
/* a users.cdb value "account:uid:gid:home" */
extern int resolve_users_parse (resolve_dest *d, char const *s, size_t len) ;
/* getpwnam(name): sets kind, uid, gid, account, home; name NUL-terminated */
extern int resolve_passwd (resolve_dest *d, char const *name) ;

#endif
