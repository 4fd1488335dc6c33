#ifndef REMOTE_H
#define REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/buffer.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "sitefail.h"

/* recipients of one run (the SMTP minimum a server must take, RFC 5321 4.5.3.1.8) */
#define REMOTE_RCPT_MAX 100
/* addresses tried per run, over every host: bounds the time a dead
   destination costs (Postfix tries 5 by default) */
#define REMOTE_ADDRS_MAX 10
/* MX records kept, after sorting */
#define REMOTE_MX_MAX 32
/* a host name or domain (RFC 1035) */
#define REMOTE_NAME_MAX 255
/* of a reply line this much is kept, the rest dropped; a line longer
   than REPLY_LINE_MAX, or a reply of more than REPLY_LINES_MAX lines, is
   a protocol error (temporary) */
#define REPLY_LINE_KEEP 1000
#define REPLY_LINE_MAX 65536
#define REPLY_LINES_MAX 100
/* a result text, as lspawn's */
#define REMOTE_TEXT_MAX 1000
/* QUIT is a courtesy once the results are out: waited for this long */
#define QUIT_WAIT 10
/* octets of a line sent, CR LF not counted (RFC 5321 4.5.3.1.6, as
   Postfix's smtp_line_length_limit): longer ones are folded */
#define REMOTE_LINE_MAX 998
/* a whole session, from the connection to the reply after the data,
   ends within control/timeoutsession seconds plus one per
   REMOTE_MIN_RATE bytes of the message (Postfix's smtp_min_data_rate is
   500 bytes/s): a server that answers each read just in time cannot
   hold a job for ever */
#define REMOTE_MIN_RATE 500

typedef struct remote_dest_s remote_dest ;
struct remote_dest_s
{
  char host[REMOTE_NAME_MAX + 1] ;  /* the name it came from, or the literal */
  ip46 ip ;
  uint16_t port ;
} ;

typedef struct remote_rcpt_s remote_rcpt ;
struct remote_rcpt_s
{
  char const *addr ;
  char status ;    /* 0 while undecided, else K, Z or D */
  char accepted ;  /* RCPT got 2xx in this session */
  stralloc text ;
} ;

/* control/tlsroutes.cdb's policies (remote(8), TLS): in this order, so
   that >= REMOTE_TLS_ENCRYPT means clear text is refused */
enum remote_tls_policy { REMOTE_TLS_NONE, REMOTE_TLS_MAY, REMOTE_TLS_ENCRYPT, REMOTE_TLS_VERIFY } ;
#define REMOTE_TLSROUTES "control/tlsroutes.cdb"
/* control/tlscafile absent: Debian's CAs under hashed names
   (update-ca-certificates keeps them), read per issuer; the bundle
   /etc/ssl/certs/ca-certificates.crt would cost 25 ms to parse per run */
#define REMOTE_TLS_CAFILE "/etc/ssl/certs"
/* what a result says of the session's TLS: " (TLSv1.3 " cipher ",
   not verified)"; libtls names are shorter than this */
#define REMOTE_TLSNOTE_MAX 128

typedef struct remote_ctx_s remote_ctx ;
struct remote_ctx_s
{
  char const *domain ;
  char const *sender ;
  remote_rcpt rcpts[REMOTE_RCPT_MAX] ;
  unsigned int n ;
  /* the body, scanned once */
  uint64_t wiresize ;      /* bytes of DATA as sent (remote_body.c), the final dot aside */
  int eightbit ;
  int utf8header ;         /* UTF-8 (8-bit) in the header section */
  int utf8env ;            /* UTF-8 in the sender or a recipient: SMTPUTF8 needed */
  /* control/ */
  stralloc me ;
  unsigned int timeoutconnect, timeoutremote, timeoutdns, timeoutsession ;
  enum remote_tls_policy tlspolicy ;
  /* the last reason a host failed, given to every recipient when all fail */
  stralloc lasterr ;
} ;

/* remote_result.c: decides a recipient (once), or every undecided one */
extern void remote_result_set (remote_rcpt *r, char status, char const *s1, char const *s2, char const *s3) ;
extern void remote_result_all (remote_ctx *c, char status, char const *s1, char const *s2, char const *s3) ;
/* every undecided recipient: temporary, text ending with SITE_MARK */
extern void remote_result_site (remote_ctx *c, char const *text) ;
extern int remote_result_write (remote_ctx const *c, char lead) ;

/* remote_tlspolicy.c: c->tlspolicy for c->domain from REMOTE_TLSROUTES;
   0 with every recipient decided (temporarily) when the table cannot be
   read or holds no policy */
extern int remote_tlspolicy_get (remote_ctx *c) ;

/* remote_dest.c: where the mail goes. Fills d, returns how many; 0 with
   every recipient decided when there is nowhere to go */
extern unsigned int remote_dest_find (remote_ctx *c, remote_dest *d, unsigned int max) ;

/* remote_dns.c: synchronous answers from asynchronous c-ares, each
   phase bounded by one deadline */
enum dns_status { DNS_OK, DNS_NODATA, DNS_NXDOMAIN, DNS_TEMP } ;
typedef struct dns_mx_s dns_mx ;
struct dns_mx_s { unsigned int pref ; char host[REMOTE_NAME_MAX + 1] ; } ;
extern int remote_dns_init (tain const *deadline, stralloc *err) ;
extern enum dns_status remote_dns_mx_lookup (char const *name, dns_mx *mx, unsigned int max, unsigned int *n, stralloc *err) ;
/* addresses of each name (IPv6 first); status per name in st */
extern void remote_dns_addr_lookup (char const *const *names, unsigned int nnames, ip46 *ip, unsigned int per, unsigned int *n, enum dns_status *st, stralloc *err) ;

/* remote_body.c: scan is 1, 0 with errno if the body could not be
   read, -1 with every recipient decided (DKIM signing failed) */
extern int remote_body_scan (remote_ctx *c) ;
typedef struct remote_conn_s remote_conn ;
extern int remote_body_send (remote_conn *k) ;

/* remote_dkim.c: DKIM signing (remote(8)); scan gives it each line as
   sent, without CR LF, header: still in the header section. line and
   end: 1, or 0 when the message must wait (remote_dkim_error says why) */
#define REMOTE_DKIMKEYS "control/dkimkeys.cdb"
/* keys kept loaded per process, by file name */
#define REMOTE_DKIM_KEYS_MAX 64
/* signatures a message gets at most (an RSA one beside an Ed25519 one,
   and room for a key change) */
#define REMOTE_DKIM_SIGS_MAX 4
extern void remote_dkim_start (void) ;
extern int remote_dkim_line (char const *s, size_t len, int header) ;
extern int remote_dkim_end (void) ;
/* the DKIM-Signature fields of the last scan, to send first (CR LF
   line ends), len 0 if none: a scan and its sends go together */
extern char const *remote_dkim_sig (size_t *len) ;
extern char const *remote_dkim_error (void) ;

/* remote_deadline.c: now + timeout, or end if sooner */
extern void remote_deadline (tain *d, tain const *timeout, tain const *end) ;

/* one connection to a server, shared by remote_smtp.c and remote_reply.c */
struct tls ;
struct remote_conn_s
{
  int fd ;
  struct tls *tls ;        /* 0: clear text; else every byte goes through it */
  buffer in, out ;
  char inbuf[4096], outbuf[16384] ;
  tain timeout ;           /* control/timeoutremote: each read and write */
  tain end ;               /* the whole session's deadline */
  stralloc reply ;         /* the last reply, lines joined by " / " */
  int pipelining, eightbitmime, hassize, starttls, smtputf8 ;  /* what EHLO offered */
  uint64_t sizemax ;
} ;

/* remote_io.c: the connection's input and output, clear or through
   k->tls, each call bounded by deadline. fill: as buffer_timed_fill
   (bytes read, 0 at end of input, -1 with errno; EIO: a TLS error);
   flush and put: 1 done, 0 with errno. */
extern ssize_t remote_io_fill (remote_conn *k, tain const *deadline) ;
extern int remote_io_flush (remote_conn *k, tain const *deadline) ;
extern int remote_io_put (remote_conn *k, char const *s, size_t len, tain const *deadline) ;
/* 1 once the fd can be used as libtls asked (want: TLS_WANT_POLLIN or
   TLS_WANT_POLLOUT), 0 with errno ETIMEDOUT at deadline */
extern int remote_io_wait (int fd, int want, tain const *deadline) ;

/* remote_tls.c: the client side of STARTTLS (RFC 3207) with libtls, on
   k->fd once the server said 220. name: the name sent by SNI and, with
   verify, checked against the certificate (0: none). 1 with k->tls set,
   or 0 with the reason in err (NUL-ended). OpenSSL is initialized at the
   first call only: a session in clear text never pays for it. */
extern int remote_tls_start (remote_conn *k, char const *name, int verify, stralloc *err) ;
/* " (TLSv1.3 cipher, verified)" or ", not verified)" into note */
extern void remote_tls_note (remote_conn const *k, int verify, char *note) ;
/* what the last TLS error was */
extern char const *remote_tls_error (remote_conn const *k) ;
/* close_notify if it goes at once, then the TLS state freed */
extern void remote_tls_end (remote_conn *k) ;

/* remote_reply.c: a reply's code, or -1 with errno ETIMEDOUT, EPIPE,
   EPROTO (not a reply) or EMSGSIZE (past the limits); with ehlo, its
   keywords set the conn's flags */
extern int remote_reply_get (remote_conn *k, int ehlo) ;

/* remote_smtp.c: one session; 1 when every recipient is decided, 0 to
   try the next address (c->lasterr says why) */
extern int remote_smtp_session (remote_ctx *c, remote_dest const *d) ;
/* the next job on the connection a session left in step, if it was made
   for c->domain under c->tlspolicy (else it is closed): 1 when every
   recipient is decided; 0 when there is none, or it was found dead
   before MAIL was answered (then closed, nothing of the job taken) */
extern int remote_smtp_reuse (remote_ctx *c) ;
/* the fd of a connection that can take another job, or -1 */
extern int remote_smtp_kept (void) ;
/* closes the connection without a word (the server closed or spoke) */
extern void remote_smtp_drop (void) ;
extern void remote_smtp_quit (void) ;

#endif
