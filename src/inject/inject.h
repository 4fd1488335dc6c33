#ifndef POSTERN_INJECT_H
#define POSTERN_INJECT_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* sendmail's exit codes (the system's <sysexits.h>), which its callers read */
#define INJECT_EUSAGE 64
#define INJECT_EDATA 65
#define INJECT_ETEMP 75

/* the header section is held in memory to be read and edited; past
   this many bytes the message is refused (the body is streamed) */
#define INJECT_HEADER_MAX 262144
/* input read at once, and message bytes written to queue-inject at once */
#define INJECT_IO_MAX 65536
/* a full name (-F, MAILNAME, NAME, gecos) is cut to this many bytes */
#define INJECT_NAME_MAX 256
/* RFC 1035 2.3.4: a domain name is at most 255 octets */
#define INJECT_HOST_MAX 255
/* an inject that has not finished in a day has a stuck writer on fd 0;
   queue-inject gives up after the same time */
#define INJECT_LIFETIME 86400

typedef struct inject_opts_s inject_opts, *inject_opts_ref ;
struct inject_opts_s
{
  int extract ;              /* -t: recipients from To, Cc, Bcc too */
  int dots ;                 /* no -i: a line "." ends the input */
  char const *sender ;       /* -f, -r, or 0 */
  char const *fullname ;     /* -F, or 0 */
  char const *const *rcpts ; /* the operands */
  unsigned int nrcpts ;
  char mode ;                /* -b: 'm' (mail, the default), 'p' or 's' */
} ;

/* inject_opts.c: the sendmail command line; dies 64 on a bad one */
extern void inject_opts_parse (inject_opts *o, int argc, char const *const *argv) ;
/* inject_mode.c: -bp runs queue-list, -bs smtpd; never returns */
extern void inject_mode_exec (char mode) ;

/* What the headers and the envelope are made of (all NUL-terminated). */
typedef struct inject_conf_s inject_conf, *inject_conf_ref ;
struct inject_conf_s
{
  stralloc host ;     /* control/defaulthost, else control/me */
  stralloc domain ;   /* control/defaultdomain, else control/me */
  stralloc user ;     /* the local part of From: and the default sender */
  stralloc name ;     /* the full name, possibly empty */
  stralloc sender ;   /* the envelope sender, qualified, maybe empty */
} ;
#define INJECT_CONF_ZERO { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO }

/* inject_conf.c: control files, the account, the sender; dies 64 or 75 */
extern void inject_conf_read (inject_conf *c, inject_opts const *o) ;

/* inject_addrlist.c: the addresses of an RFC 5322 address list (display
   names, comments, quoted strings, groups, routes dropped), each given to
   f with its length, which may exceed ADDR_MAX. 0 if out of memory. */
typedef void inject_addr_func (char const *addr, size_t len, void *data) ;
extern int inject_addrlist (char const *s, size_t len, inject_addr_func *f, void *data) ;

/* inject_rcpt.c: the envelope's recipients, qualified with the default
   domain, duplicates dropped */
typedef struct inject_rcpts_s inject_rcpts, *inject_rcpts_ref ;
struct inject_rcpts_s
{
  stralloc list ;          /* NUL-terminated addresses */
  unsigned int n ;
  char const *domain ;     /* added to an address without '@' */
  int badexit ;            /* exit code for a bad address */
} ;
#define INJECT_RCPTS_ZERO { STRALLOC_ZERO, 0, 0, 0 }
/* an inject_addr_func: dies with r->badexit on a bad address */
extern void inject_rcpt_add (char const *addr, size_t len, void *r) ;
/* the envelope; dies 65 with no recipient or too many */
extern void inject_rcpt_envelope (stralloc *env, inject_rcpts *r, char const *sender) ;

/* inject_in.c: fd 0 through one buffer */
enum inject_line { IN_EOF = 0, IN_LINE, IN_LONG } ;
/* appends one line to sa (its CR LF made LF), at most max bytes: IN_LINE
   for a whole line, IN_LONG when max bytes came first, IN_EOF at end of
   input (sa may have got a last line without LF); dies 75 on error */
extern enum inject_line inject_in_line (stralloc *sa, size_t max) ;
/* the unread bytes of the buffer, refilled when empty; 0 at end of input */
extern size_t inject_in_avail (char **s) ;
extern void inject_in_consume (size_t n) ;

/* inject_header.c: reads and edits the header section */
typedef struct inject_head_s inject_head, *inject_head_ref ;
struct inject_head_s
{
  stralloc out ;     /* the header section to queue, our fields added */
  stralloc first ;   /* a body line read while looking for headers */
  int midline ;      /* first is the start of a line longer than the budget */
  int body ;         /* a body follows: a separator line is due */
  int ended ;        /* the input is over (end of file or a "." line) */
  unsigned int has ; /* INJECT_HAS_* of the fields the message carries */
} ;
#define INJECT_HEAD_ZERO { STRALLOC_ZERO, STRALLOC_ZERO, 0, 0, 0, 0 }
#define INJECT_HAS_DATE 1u
#define INJECT_HAS_MSGID 2u
#define INJECT_HAS_FROM 4u
/* reads the header section into h->out, without Bcc: and Return-Path:;
   with -t, gives the addresses of To:, Cc: and Bcc: to r; dies 65 past
   INJECT_HEADER_MAX */
extern void inject_header_read (inject_head *h, inject_opts const *o, inject_rcpts *r) ;

/* inject_fields.c: the fields we add when the message lacks them */
extern void inject_add_from (stralloc *out, inject_conf const *c) ;
extern void inject_add_date (stralloc *out) ;
extern void inject_add_msgid (stralloc *out, inject_conf const *c) ;

/* inject_queue.c: the message to queue-inject, then the envelope;
   returns only when queued, else dies 65 or 75 with its reason */
extern void inject_queue (inject_head *h, int dots, stralloc const *env) ;

#endif
