#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include <stddef.h>

/* The password hashes of SMTP AUTH (checkpw(8), auth-passwd(8)): under
   the home, "login hash" lines and the cdb compiled from them. */
#define AUTH_DIR "auth"
#define AUTH_PASSWORDS "auth/passwords"
#define AUTH_PASSWORDS_CDB "auth/passwords.cdb"

/* the checkpassword interface's input on fd 3, login\0password\0
   timestamp\0: at most this many bytes (the same bound as djb's
   checkpassword) */
#define AUTH_INPUT_MAX 512
/* bytes of a login: an address (RFC 5321 4.5.3.1.3: a path is at most
   256 octets, the brackets included) fits */
#define AUTH_LOGIN_MAX 255
/* bytes of a password auth-passwd accepts: a longest login, this, the
   two NULs and a timestamp of up to 55 bytes fit in AUTH_INPUT_MAX */
#define AUTH_PASSWORD_MAX 200

/* 1 if s (len bytes) can be a login: 1 to AUTH_LOGIN_MAX bytes, no
   blank, control character, NUL or ':', not starting with '#' (the
   passwords file's comment); bytes 128 to 255 are allowed. 0 if not. */
extern int auth_login_valid (char const *s, size_t len) ;

#endif
