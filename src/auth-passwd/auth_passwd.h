#ifndef AUTH_PASSWD_H
#define AUTH_PASSWD_H

#include <stddef.h>

/* Reads the new password into pw (room for AUTH_PASSWORD_MAX + 1
   bytes, NUL-terminated): one line of fd 0, or, if fd 0 is a terminal,
   asked twice without echo. Returns its length; dies 100 if it is
   empty, too long, holds a NUL or the two differ, 111 on errors. */
extern size_t auth_passwd_read (char *pw) ;

/* Rewrites auth/passwords and auth/passwords.cdb under home, login
   (len bytes, lowercase) set to hash, or removed if hash is null.
   Dies 100 (unknown login to remove, malformed file) or 111. */
extern void auth_passwd_update (char const *home, char const *login, size_t len, char const *hash) ;

#endif
