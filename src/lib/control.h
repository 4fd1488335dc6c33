#ifndef POSTERN_CONTROL_H
#define POSTERN_CONTROL_H

#include <skalibs/stralloc.h>

/* Control files live under the home's control/ (one-line settings) */
#define CONTROL_DIR "control"
/* a one-line setting is at most this long; longer files are an error */
#define CONTROL_LINE_MAX 1024
/* control/maxhops absent: qmail's MAXHOPS. smtpd refuses and local
   bounces a message with more Received: and Delivered-To: fields. */
#define CONTROL_MAXHOPS 100

/* Reads the first line of control/name into sa (no newline, trailing
   blanks removed). Returns 1 if read, 0 if the file does not exist, -1
   with errno on error (EINVAL: too long or not text). */
extern int control_readline (stralloc *sa, char const *name) ;
/* The same for a file named by path (a program whose cwd is not the
   home builds home_dir() "/control/" name itself). */
extern int control_readfile (stralloc *sa, char const *path) ;
/* Reads an unsigned number; *u = def if the file does not exist.
   Returns 1 on success, -1 on error (EINVAL: not a number). */
extern int control_readuint (unsigned long *u, char const *name, unsigned long def) ;
/* control_readuint for a daemon's start: def if absent, a value over
   max warned about and taken as max; dies 111 if unreadable */
extern unsigned int control_readuint_max (char const *name, unsigned int def, unsigned int max) ;

#endif
