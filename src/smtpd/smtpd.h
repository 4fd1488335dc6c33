#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include "addr.h"

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets, CRLF included */
#define SMTPD_LINE_MAX 512
/* a text line of the message, its line end excluded: RFC 5321 4.5.3.1.6
   says 1000 with the CR LF, but clients send longer ones (swaks' To: for
   50 recipients, unfolded headers); everything after smtpd streams lines,
   so this only bounds what a reader of the message must cope with */
#define SMTPD_TEXT_MAX 65536
#define SMTPD_TEXT_MAX_S "65536"
/* bytes read from the client at once: several pipelined commands, or a
   good part of a message; never more is held */
#define SMTPD_IN_MAX 16384
/* replies held until the client's pipelined input is used up; a fuller
   buffer is written out early (RFC 2920 allows it) */
#define SMTPD_OUT_MAX 8192
/* a reply line we make: code, status, text and the client's bytes quoted
   nowhere, so short */
#define SMTPD_REPLY_MAX 512
/* control/ defaults (smtpd(8)) */
#define SMTPD_DATABYTES 10240000
#define SMTPD_MAXRCPT 100
#define SMTPD_TIMEOUT 300
#define SMTPD_MAXBAD 10
/* seconds a whole session may last, whatever the client does: 10 MB at
   under 6 KB/s still fits; a slowloris client holds a slot no longer */
#define SMTPD_SESSIONTIME 1800
/* milliseconds a stranger waits for the greeting; one who talks first
   is dropped (an early talker, as postscreen's pregreet test) */
#define SMTPD_GREETDELAY 1000
/* the most either may be set to: a day, and a minute */
#define SMTPD_SESSIONTIME_MAX 86400
#define SMTPD_GREETDELAY_MAX 60000
/* HELO argument kept for the Received line (RFC 1035 name length) */
#define SMTPD_HELO_MAX 255
/* an address literal's text between the brackets: "IPv6:" and the
   longest IPv6 text form (RFC 5321 4.1.3) */
#define SMTPD_LITERAL_MAX 50
/* our name in the greeting and the Received line */
#define SMTPD_ME_MAX 255
/* an AUTH login, and a password (checkpw(8) reads 512 bytes in all) */
#define SMTPD_LOGIN_MAX 255
#define SMTPD_PASSWORD_MAX 200
/* control/ defaults (smtpd(8)): failed AUTHs per session, then 421;
   milliseconds before a failure is told */
#define SMTPD_AUTHMAXFAIL 3
#define SMTPD_AUTHDELAY 1000
#define SMTPD_AUTHDELAY_MAX 60000
/* STARTTLS is offered once the home has its certificate (tlsd(8)) */
#define SMTPD_TLS_CERT "tls/default.crt"

typedef struct smtpd_conf_s smtpd_conf, *smtpd_conf_ref ;
struct smtpd_conf_s
{
  unsigned long databytes ;  /* 0: no limit */
  unsigned long maxrcpt ;
  unsigned long timeout ;    /* seconds per command or text line, per write */
  unsigned long maxbad ;
  unsigned long sessiontime ; /* seconds per session */
  unsigned long greetdelay ; /* milliseconds before the greeting; 0: none */
  unsigned long maxhops ;    /* Received: and Delivered-To: fields */
  char const *remoteip ;     /* TCPREMOTEIP or "unknown" */
  char const *localip ;      /* TCPLOCALIP or 0 */
  char const *proxyfrom ;    /* PROXYFROM (the balancer that relayed the client) or 0 */
  int relayclient ;          /* RELAYCLIENT is set */
  int norcptcheck ;          /* NORCPTCHECK: local names left to delivery */
  int smtps ;                /* SMTPS: TLS before the greeting (port 465) */
  int submission ;           /* SUBMISSION: MAIL only after AUTH (port 587) */
  unsigned long authmaxfail ;
  unsigned long authdelay ;  /* milliseconds */
  int authsender ;           /* MAIL FROM must be the login */
  stralloc checkpassword ;   /* NUL-terminated */
  stralloc me ;              /* NUL-terminated */
  stralloc greeting ;        /* NUL-terminated, the text after "220 " */
  int authspf ;              /* control/authresults names spf */
  int authdkim ;             /* control/authresults names dkim */
  unsigned long dkimbytes ;  /* a message is held this far to check its signatures */
  unsigned long authtimeout ; /* seconds an SPF check may take */
} ;
extern smtpd_conf smtpd_config ;

/* smtpd_conf.c: the session's variables (TCPREMOTEIP, TCPLOCALIP,
   RELAYCLIENT) from the environment */
extern void smtpd_conf_env (void) ;
/* control/; 0 with errno and *what set */
extern int smtpd_conf_read (char const **what) ;
/* 1 if a control file smtpd_conf_read reads has changed (or appeared,
   or gone) since the last call: inode, size or mtime */
extern int smtpd_conf_changed (void) ;
/* copies s into d (max bytes), keeping only what may stand in a header
   or a reply: printable ASCII but for parentheses and backslash */
extern size_t smtpd_clean (char *d, size_t max, char const *s, size_t len) ;

/* control/authtimeout absent: RFC 7208 4.6.4 asks for at least 20 s
   before a check is given up as temperror; the check runs before the
   reply to DATA, which a client waits 2 minutes for (RFC 5321
   4.5.3.2.5), so at most 60 */
#define SMTPD_AUTHTIME 20
#define SMTPD_AUTHTIME_MAX 60
/* control/dkimbytes absent: a message is held in memory up to this to
   check its DKIM signatures before a byte is queued (the
   Authentication-Results field goes first); a bigger one is queued as
   it comes, its signatures unchecked. Memory per session, so bounded. */
#define SMTPD_DKIMBYTES 2097152
#define SMTPD_DKIMBYTES_MAX 67108864

/* smtpd_authres.c: the Authentication-Results field of the transaction
   (sender: MAIL FROM's address, "" for <>), without its last line end,
   appended to sa: its start and the checks made before DATA's reply
   (SPF); nothing when control/authresults asks for no check. *dkim: 1
   if the message's DKIM signatures are to be checked once it has come.
   0 if out of memory */
extern int smtpd_authres (stralloc *sa, char const *sender, char const *helo, int *dkim) ;
/* the DKIM results of msg (the message as queued, LF line ends)
   appended; whole: 0 if only its first control/dkimbytes are there. 0
   if out of memory */
extern int smtpd_authres_dkim (stralloc *sa, char const *msg, size_t len, int whole) ;
/* the results for the log line: "" or " spf pass dkim pass,fail" */
extern char const *smtpd_authres_log (void) ;

/* smtpd_arfilter.c: the client's header section (LF line ends) as it
   streams, out() given all but the Authentication-Results fields that
   claim control/me as their authserv-id (RFC 8601 5); _end at the end
   of the message gives out() what is still held */
extern void smtpd_arfilter_reset (void) ;
extern void smtpd_arfilter (char const *s, size_t n, void (*out)(char const *, size_t)) ;
extern void smtpd_arfilter_end (void (*out)(char const *, size_t)) ;
/* fields deleted since the reset */
extern unsigned long smtpd_arfilter_dropped (void) ;

/* smtpd.c: one session on fds 0 and 1, from a clean state; returns
   after QUIT or at EOF, exits on any other end */
extern void smtpd_session (void) ;

/* smtpd_greet.c: the pause before the greeting; 0 if the client talked
   first or left (logged, and answered), so the session is over */
extern int smtpd_greet_wait (void) ;

/* smtpd_tls.c: the session's TLS, through a UCSPI-TLS engine */
typedef struct smtpd_tlsinfo_s smtpd_tlsinfo ;
struct smtpd_tlsinfo_s
{
  int on ;
  int reused ;
  char protocol[16] ;        /* cleaned for the Received line */
  char cipher[64] ;
} ;
extern smtpd_tlsinfo smtpd_tls ;
/* at a session's start: what the session may offer */
extern void smtpd_tls_reset (void) ;
/* 1 if STARTTLS may be offered now */
extern int smtpd_tls_offered (void) ;
/* the handshake, once "220 ready" is out; 1 when fds 0 and 1 are the
   clear-text side; 0 (logged) if it failed: the session is over */
extern int smtpd_tls_start (void) ;

/* smtpd_auth.c: AUTH PLAIN and LOGIN through a checkpassword program */
extern char smtpd_auth_user[SMTPD_LOGIN_MAX + 1] ;  /* "" until AUTH */
extern void smtpd_auth_reset (void) ;
/* the AUTH command (arg after the verb): 1 if the client is now
   authenticated */
extern int smtpd_auth (char const *arg) ;

/* smtpd_worker.c: -w, sessions handed over by smtpd-listen(8) */
extern int smtpd_worker (void) ;

/* smtpd_io.c: the client, with deadlines; init empties the buffers and
   starts the session's lifetime (the default's: smtpd_io_session sets
   the configured one, counted from init) */
enum smtpd_line { LINE_OK, LINE_EOF, LINE_BARE, LINE_LONG, LINE_NUL } ;
extern void smtpd_io_init (void) ;
extern void smtpd_io_session (void) ;
/* a line starts: it must be whole within the timeout */
extern void smtpd_io_line (void) ;
/* before the greeting: 1 if the client sent nothing within ms
   milliseconds, 0 if it did, -1 if it closed the connection */
extern int smtpd_io_quiet (unsigned long ms) ;
extern void smtpd_put (char const *s, size_t len) ;
extern void smtpd_puts (char const *s) ;
/* one whole reply line: code, enhanced status (or 0), text; CRLF added */
extern void smtpd_reply (char const *code, char const *status, char const *text) ;
extern void smtpd_flush (void) ;
/* the next command line, its CR LF or bare LF removed, NUL-terminated
   in place; smtpd_barelf tells whether it ended with a bare LF */
extern enum smtpd_line smtpd_getline (char **line, size_t *len) ;
extern int smtpd_barelf ;
/* the buffered input, for DATA: smtpd_fill waits for more (0 at EOF) */
extern size_t smtpd_avail (char **s) ;
extern void smtpd_consume (size_t n) ;
/* forgets the buffered input; how many bytes it was */
extern size_t smtpd_io_drop (void) ;
extern int smtpd_fill (void) ;
/* 421 with status and text, logged, then exit */
extern void smtpd_bye (char const *status, char const *text, char const *why) __attribute__((noreturn)) ;

/* smtpd_log.c: one line per event on fd 2, "keyword pid N" first;
   smtpd_log_str escapes the client's bytes */
extern void smtpd_log_start (char const *keyword) ;
extern void smtpd_log_put (char const *s) ;
extern void smtpd_log_str (char const *s, size_t len) ;
extern void smtpd_log_end (void) ;

/* smtpd_addr.c: MAIL and RCPT arguments */
typedef struct smtpd_path_s smtpd_path, *smtpd_path_ref ;
struct smtpd_path_s
{
  char addr[ADDR_MAX + 1] ;  /* the mailbox as it will be queued, NUL-terminated */
  size_t len ;
  size_t at ;                /* offset of the domain's '@', len if none */
  int literal ;              /* the domain is an address literal */
  int trick ;                /* the local part holds '@', '%' or '!' */
  unsigned long size ;       /* SIZE= */
  int utf8 ;                 /* the address has UTF-8 (in its local part) */
  int smtputf8 ;             /* MAIL's SMTPUTF8 parameter (RFC 6531) */
} ;
/* parses "FROM:<path> params" (rcpt: "TO:<path>"); returns 0, or the
   reply to give (a static string, code and status included) */
extern char const *smtpd_path_parse (smtpd_path *p, char const *s, int rcpt) ;

/* smtpd_policy.c: 0 if the recipient is accepted, else the reply */
extern void smtpd_policy_reset (void) ;
extern char const *smtpd_policy_rcpt (smtpd_path const *p) ;
/* 1 if the recipient's domain is ours (local or virtual), 0 if remote,
   -1 if a table cannot be read */
extern int smtpd_policy_local (smtpd_path const *p) ;

/* smtpd_rcpts.c: the recipients accepted in the transaction, compared
   by addr_key (local: the domain is ours); add returns 0 if out of
   memory */
extern void smtpd_rcpts_reset (void) ;
extern int smtpd_rcpts_seen (char const *addr, size_t len, int local) ;
extern int smtpd_rcpts_add (char const *addr, size_t len, int local) ;

/* smtpd_data.c: after DATA was accepted: runs queue-inject, reads the
   message, replies. env: the envelope without its final NUL. esmtp: 0
   HELO, 1 EHLO, 2 EHLO and MAIL with SMTPUTF8 (the Received line's
   protocol name, RFC 3848 and RFC 6531 3.7.3) */
extern void smtpd_data (stralloc *env, unsigned int nrcpt, char const *helo, int esmtp) ;

#endif
