#ifndef POSTERN_STATE_H
#define POSTERN_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include "envelope.h"
#include "queue.h"

/* A state file (queue/state/N/ID, see postern-queue(5)) is a framed
   record: NUL-terminated fields, ended by an empty field.
     "V1"            version
     "u" uid         who ran queue-inject
     "z" size        bytes of the body file
     "F" sender
     then per recipient one fixed-width "R" field (updated in place):
     'R' status channel attempts[4] lasttry[10] result[STATE_RESULT_MAX]
     then the address field and the local-name field: 'L' and the local
     name, just "L" for a remote recipient.
   No field but the last is ever empty, so a state file is itself one
   framed record (frame.h) and travels as is on send's pipes.
   Status and counters are rewritten in place at fixed offsets, so an
   update is one pwrite of STATE_FIXED bytes and never moves anything. */

#define STATE_VERSION "V1"
#define STATE_RESULT_MAX 200   /* last result text kept per recipient */
#define STATE_FIXED (1 + 1 + 1 + 4 + 10 + STATE_RESULT_MAX)  /* the R field, NUL excluded */
#define STATE_ATTEMPTS_MAX 9999
/* a local name: the local part, or a virtual domain's prefix, '-' and
   the local part */
#define STATE_LOCALNAME_MAX 256
/* the largest state file: header (V1, u, z, F: under 512 bytes), each
   recipient's R field, address and local name, the final empty field */
#define STATE_BYTES_MAX (512 + ENV_RCPT_MAX * (STATE_FIXED + 1 + ADDR_MAX + 1 + 1 + STATE_LOCALNAME_MAX + 1) + 1)
/* record's N reply: "N" id NUL, then a state file */
#define STATE_REPLY_MAX (1 + QUEUE_ID_MAX + 1 + STATE_BYTES_MAX)

/* recipient status */
#define ST_TODO 'T'      /* not delivered yet */
#define ST_DONE 'D'      /* delivered */
#define ST_FAILED 'F'    /* failed for good; the bounce is not queued yet */
#define ST_BOUNCED 'B'   /* failed, and its bounce is queued (or dropped) */
/* channel */
#define CH_LOCAL 'L'
#define CH_REMOTE 'R'

typedef struct state_rcpt_s state_rcpt, *state_rcpt_ref ;
struct state_rcpt_s
{
  size_t offset ;        /* of the R field in the file */
  char status ;
  char channel ;
  unsigned int attempts ;
  uint32_t lasttry ;     /* unix seconds, 0 if never tried */
  char const *result ;   /* STATE_RESULT_MAX bytes, space-padded, not NUL-terminated */
  char const *addr ;     /* NUL-terminated */
  char const *localname ; /* NUL-terminated (its L letter skipped), "" for remote */
} ;

typedef struct state_msg_s state_msg, *state_msg_ref ;
struct state_msg_s
{
  unsigned long uid ;
  unsigned long size ;
  char const *sender ;
  unsigned int nrcpts ;
  size_t rcpts_at ;      /* offset of the first R field */
  size_t len ;           /* bytes of the record, final NUL included */
} ;

/* Appends a state file's header to sa. */
extern int state_put_header (stralloc *sa, unsigned long uid, unsigned long size, char const *sender, size_t senderlen) ;
/* Appends one recipient: status T, no attempts. */
extern int state_put_rcpt (stralloc *sa, char channel, char const *addr, size_t addrlen, char const *localname, size_t locallen) ;
/* Writes the fixed part of an R field (STATE_FIXED bytes) into s. text is
   cut at STATE_RESULT_MAX and every byte outside printable ASCII becomes '_'. */
extern void state_fmt_fixed (char *s, char status, char channel, unsigned int attempts, uint32_t lasttry, char const *text, size_t textlen) ;

/* Parses s (len bytes, a whole record with its final empty field).
   Returns 1 and fills m if well-formed, 0 if not (truncated, bad). */
extern int state_parse (state_msg *m, char const *s, size_t len) ;
/* Iterates the recipients: *pos starts at m->rcpts_at; returns 1 and fills r,
   or 0 at the end. */
extern int state_next_rcpt (state_msg const *m, char const *s, size_t *pos, state_rcpt *r) ;
/* The result text of r without its padding: returns its length. */
extern size_t state_result_len (state_rcpt const *r) ;

#endif
