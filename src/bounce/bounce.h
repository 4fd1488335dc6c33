#ifndef POSTERN_BOUNCE_H
#define POSTERN_BOUNCE_H

#include <stddef.h>
#include <time.h>
#include <skalibs/stralloc.h>
#include "state.h"

/* RFC 1035 2.3.4: a domain name is at most 255 octets */
#define BOUNCE_ME_MAX 255
/* the envelope sender of double bounces; a failed one is dropped */
#define BOUNCE_DOUBLE_SENDER "#@[]"
/* the original headers quoted in the notice, in bytes */
#define BOUNCE_HEADERS_MAX 65536

typedef struct bounce_info_s bounce_info, *bounce_info_ref ;
struct bounce_info_s
{
  char const *id ;
  char const *me ;         /* control/me */
  char const *to ;         /* who gets the notice */
  int isdouble ;           /* the original sender was empty */
  char const *state ;      /* the state file, parsed into *m */
  state_msg const *m ;
  char const *headers ;    /* whole lines, each ending in LF */
  size_t headerslen ;
  int headerscut ;         /* BOUNCE_HEADERS_MAX was reached */
  time_t arrival ;
  time_t now ;
} ;

/* Appends the whole DSN to out; 0 when out of memory. */
extern int bounce_compose (stralloc *out, bounce_info const *b) ;
/* Queues msg from sender to rcpt with bin/queue-inject; returns when it
   exited 0, else dies 111 with the reason. */
extern void bounce_inject (char const *id, char const *msg, size_t msglen, char const *sender, char const *rcpt) ;

#endif
