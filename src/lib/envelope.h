#ifndef POSTERN_ENVELOPE_H
#define POSTERN_ENVELOPE_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include "addr.h"

/* The qmail-queue envelope: 'F' sender NUL, then 'T' recipient NUL per
   recipient, then one more NUL. */

/* Most recipients one message may carry (smtpd and inject limit lower) */
#define ENV_RCPT_MAX 10000
/* Longest envelope: every field full, plus the final NUL */
#define ENV_BYTES_MAX ((ENV_RCPT_MAX + 1) * (ADDR_MAX + 2) + 1)

enum env_error
{
  ENV_OK = 0,
  ENV_EFORMAT,     /* not F..NUL (T..NUL)* NUL */
  ENV_EINCOMPLETE, /* ended before the final NUL */
  ENV_EADDRLONG,   /* an address over ADDR_MAX */
  ENV_EADDRBAD,    /* an address with a control character */
  ENV_ETOOMANY,    /* over ENV_RCPT_MAX recipients */
  ENV_ENORCPT,     /* no recipient at all */
  ENV_ETOOLONG     /* over ENV_BYTES_MAX */
} ;

/* Incremental checker: feed bytes as they arrive, with bounded state. */
typedef struct env_check_s env_check, *env_check_ref ;
struct env_check_s
{
  size_t total ;      /* bytes accepted so far */
  size_t fieldlen ;   /* bytes of the current field, its type letter included */
  unsigned int rcpts ;
  unsigned char done ; /* final NUL seen */
  enum env_error error ;
} ;
#define ENV_CHECK_ZERO { 0, 0, 0, 0, ENV_OK }

/* feeds n bytes; returns how many were part of the envelope (stops at the
   final NUL or the first error; then c->done or c->error tells which) */
extern size_t env_check_feed (env_check *c, char const *s, size_t n) ;
/* at EOF: returns the final error, ENV_OK only if complete and valid */
extern enum env_error env_check_end (env_check const *c) ;

/* A parsed envelope points into the caller's buffer. */
typedef struct env_view_s env_view, *env_view_ref ;
struct env_view_s
{
  char const *sender ;  /* NUL-terminated, may be "" */
  char const *rcpts ;   /* first recipient's letter 'T' */
  size_t rcptslen ;     /* bytes of all T fields */
  unsigned int nrcpts ;
} ;
/* parses a complete envelope (as written by env_check'd input); returns the
   error, and on ENV_OK fills v */
extern enum env_error env_parse (env_view *v, char const *s, size_t len) ;
/* iterate: *pos starts at 0; returns the next recipient or 0 at the end */
extern char const *env_next_rcpt (env_view const *v, size_t *pos) ;

/* appends an envelope field: letter, address, NUL */
extern int env_put (stralloc *sa, char letter, char const *addr, size_t len) ;

extern char const *env_strerror (enum env_error e) ;

#endif
