#ifndef POSTERN_RCPT_H
#define POSTERN_RCPT_H

#include <stddef.h>

/* Which local names have a delivery, for smtpd's check at RCPT:
   control/recipients.cdb, built by recipients-compile(8) as root from
   what resolve_local() and local(8) would find (aliases, users, the
   .postern-EXT files in their homes). Relative to the home. */
#define RCPT_TABLE "control/recipients.cdb"

/* Its records, keys lowercased: a name, value a set of these letters;
   and for a user's instruction file .postern-X the key name NUL X,
   value empty. */
#define RCPT_ALIAS 'a'    /* an alias by that name */
#define RCPT_USER 'u'     /* a user by that name */
#define RCPT_ROOTUSER 'r' /* a user with uid 0: lspawn refuses it */
#define RCPT_ANYEXT '*'   /* its home could not be read: any extension */

enum rcpt_answer { RCPT_UNKNOWN = 0, RCPT_KNOWN, RCPT_ROOT } ;

/* Looks the local name (case-insensitive) up as resolve_local() would,
   an extension counting only if its user has an instruction file for
   it. Without control/recipients.cdb, sets *notable and answers by
   resolve_local() alone (extensions unchecked). Returns an rcpt_answer,
   or -1 with errno on a temporary error. */
extern int rcpt_known (char const *localname, size_t len, int *notable) ;

#endif
