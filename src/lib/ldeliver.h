#ifndef POSTERN_LDELIVER_H
#define POSTERN_LDELIVER_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* lspawn and its delivery workers (local -w), over a SOCK_SEQPACKET
   socketpair, one packet per request or answer (local(8), lspawn(8)).
   Request: the message's fd by SCM_RIGHTS, and the fields local takes
   in argv, each NUL-ended: user home localname ext domain sender
   recipient. Answer, in the requests' order: the exit code one-shot
   local would exit with, in decimal, and its line without the
   newline, each NUL-ended. */

#define LDELIVER_FIELDS 7
/* a field's bytes, NUL excluded: a home is a path (PATH_MAX 4096 with
   its NUL), the others a name or an address (ADDR_MAX) */
#define LDELIVER_HOME_MAX 4095
#define LDELIVER_FIELD_MAX 256
/* a request's bytes: the home, six other fields, their NULs */
#define LDELIVER_REQ_MAX (LDELIVER_HOME_MAX + 6 * LDELIVER_FIELD_MAX + LDELIVER_FIELDS)
/* an answer's bytes: "111", the 1000-byte line (LOCAL_TEXT_MAX), NULs */
#define LDELIVER_TEXT_MAX 1000
#define LDELIVER_ANSWER_MAX (3 + LDELIVER_TEXT_MAX + 2)
/* requests a worker takes at once, and so the most lspawn gives a
   worker before its answers: the deliveries of one group commit */
#define LDELIVER_BATCH_MAX 32
/* deliveries a worker makes before it ends; lspawn gives no more */
#define LDELIVER_USES_MAX 10000

/* lspawn: sends one request; 1 sent, 0 the socket is full (EAGAIN) or
   a field too long (ENAMETOOLONG), -1 error */
extern int ldeliver_put (int sock, int body, char const *const *f) ;
/* the worker: receives one request into buf (LDELIVER_REQ_MAX + 1
   bytes), f pointing into it, *body its fd (close-on-exec). 1 got one,
   0 end of file, -1 error (EAGAIN: none now; EPROTO: malformed, the
   fd if any closed) */
extern int ldeliver_get (int sock, char *buf, char const **f, int *body, int flags) ;

#endif
