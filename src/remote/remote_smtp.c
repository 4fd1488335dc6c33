/* One SMTP session (RFC 5321) with one address: a state per exchange,
   each a short function in a table; every read and write has a
   deadline, and the whole session one more (control/timeoutsession).
   STARTTLS (RFC 3207) as control/tlsroutes says; under "may" a failed
   handshake is tried once more on a new connection in clear text.
   A connection left in step after a transaction is kept for the next
   job for the same domain and TLS policy (remote -w): RSET, then the
   transaction; found dead before MAIL is answered, it is dropped and
   the job starts afresh (remote_smtp_reuse). */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/ip46.h>
#include <skalibs/socket.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include <skalibs/unix-timed.h>
#include "remote.h"

enum smtp_state { S_GREETING, S_EHLO, S_HELO, S_STARTTLS, S_SIZE, S_RSET, S_MAIL, S_RCPT, S_NODATA, S_DATA, S_BODY, S_DOT, S_NEXT, S_DECIDED, S_CLEAR, S_STALE } ;

static remote_conn k = { .fd = -1, .tls = 0 } ;
static stralloc cmd = STRALLOC_ZERO ;
static void hangup (void) ;
/* "host[ip]:port", then what TLS it has once that is known */
static char peer[REMOTE_NAME_MAX + IP46_FMT + UINT16_FMT + 4 + REMOTE_TLSNOTE_MAX] ;
static unsigned int rcptnext, accepted ;   /* S_RCPT's place, and its 2xx count */
static int cleartext ;   /* this connection is the retry after a failed handshake */
static char const *tlsname ;   /* the name SNI sends and verify checks */
/* the kept connection: what it was made for, its transactions so far
   (jobs it took), whether the last one left it in step, an RSET sent
   and not answered yet, and where peer's reuse note starts */
static char kdomain[REMOTE_NAME_MAX + 1] ;
static enum remote_tls_policy kpolicy ;
static unsigned int trans ;
static int insync, rsetpending, saw421 ;
static size_t peerbase ;

/* a reply that ends a transaction: the connection is in step after it
   unless the server is closing (421, now or to a RCPT) */
static void in_step (int code)
{
  insync = code >= 0 && code != 421 && !saw421 ;
}

/* a kept connection that failed before its MAIL was answered: dropped,
   and the job goes to a new one; nothing of it was taken */
static enum smtp_state stale (void)
{
  hangup() ;
  return S_STALE ;
}

static int put (char const *s1, char const *s2, char const *s3)
{
  tain deadline ;
  cmd.len = 0 ;
  if (!stralloc_cats(&cmd, s1) || !stralloc_cats(&cmd, s2) || !stralloc_cats(&cmd, s3) || !stralloc_catb(&cmd, "\r\n", 2)) return 0 ;
  remote_deadline(&deadline, &k.timeout, &k.end) ;
  return remote_io_put(&k, cmd.s, cmd.len, &deadline) ;
}

static int flush (void)
{
  tain deadline ;
  remote_deadline(&deadline, &k.timeout, &k.end) ;
  return remote_io_flush(&k, &deadline) ;
}

static void hangup (void)
{
  insync = rsetpending = 0 ;
  remote_tls_end(&k) ;
  fd_close(k.fd) ;
  k.fd = -1 ;
}

/* why the connection failed, in a result text */
static char const *why (void)
{
  switch (errno)
  {
    case ETIMEDOUT : tain_now_g() ; return tain_less(&STAMP, &k.end) ? "timed out" : "session deadline passed" ;
    case EPIPE : case ECONNRESET : return "connection lost" ;
    case EPROTO : return "malformed reply" ;
    case EMSGSIZE : return "reply too long" ;
    case EIO : if (k.tls) return remote_tls_error(&k) ; return strerror(errno) ;
    default : return strerror(errno) ;
  }
}

static void lost (stralloc *t, char const *when)
{
  int e = errno ;
  t->len = 0 ;
  errno = e ;
  if (!stralloc_cats(t, "4.4.2 ") || !stralloc_cats(t, peer) || !stralloc_cats(t, ": ")
   || !stralloc_cats(t, why()) || !stralloc_cats(t, " ") || !stralloc_cats(t, when) || !stralloc_0(t))
    t->len = 0 ;
}

/* the connection is out of step or dead: no QUIT on it */
static enum smtp_state lost_all (remote_ctx *c, char const *when)
{
  stralloc t = STRALLOC_ZERO ;
  lost(&t, when) ;
  remote_result_all(c, 'Z', t.len ? t.s : "4.4.2 connection lost", "", "") ;
  stralloc_free(&t) ;
  hangup() ;
  return S_DECIDED ;
}

/* the server's reply as a result text */
static void said (remote_rcpt *r, int code, char const *inreplyto)
{
  char st = code >= 500 ? 'D' : 'Z' ;
  if (!stralloc_0(&k.reply)) { remote_result_set(r, 'Z', "4.3.0 out of memory", "", "") ; return ; }
  k.reply.len-- ;
  remote_result_set(r, st, peer, " said: ", k.reply.s) ;
  if (r->status == st && inreplyto && (stralloc_cats(&r->text, " (in reply to ") && stralloc_cats(&r->text, inreplyto) && stralloc_cats(&r->text, ")")))
    if (r->text.len > REMOTE_TEXT_MAX) r->text.len = REMOTE_TEXT_MAX ;
}

static enum smtp_state said_all (remote_ctx *c, int code, char const *inreplyto, int acceptedonly)
{
  if (code == 421) insync = 0 ;
  for (unsigned int i = 0 ; i < c->n ; i++)
    if (!acceptedonly || c->rcpts[i].accepted) said(c->rcpts + i, code, inreplyto) ;
  return S_DECIDED ;
}

static enum smtp_state next_host (remote_ctx *c, int code, char const *inreplyto)
{
  c->lasterr.len = 0 ;
  if (code < 0) lost(&c->lasterr, inreplyto) ;
  else if (!stralloc_0(&k.reply)
    || !stralloc_cats(&c->lasterr, peer) || !stralloc_cats(&c->lasterr, " said: ")
    || !stralloc_cats(&c->lasterr, k.reply.s) || !stralloc_cats(&c->lasterr, " (in reply to ")
    || !stralloc_cats(&c->lasterr, inreplyto) || !stralloc_cats(&c->lasterr, ")") || !stralloc_0(&c->lasterr))
    c->lasterr.len = 0 ;
  hangup() ;
  return S_NEXT ;
}

static void set_peer (remote_dest const *d)
{
  size_t n = 0, h = strlen(d->host) ;
  if (d->host[0] != '[') { memcpy(peer, d->host, h) ; n = h ; }
  peer[n++] = '[' ;
  n += ip46_fmt(peer + n, &d->ip) ;
  peer[n++] = ']' ;
  if (d->port != 25) { peer[n++] = ':' ; n += uint16_fmt(peer + n, d->port) ; }
  peer[n] = 0 ;
}

/* from here on the texts say what TLS the session has */
static void note (char const *s)
{
  size_t n = strlen(peer), len = strlen(s) ;
  if (len > sizeof peer - 1 - n) len = sizeof peer - 1 - n ;
  memcpy(peer + n, s, len) ;
  peer[n + len] = 0 ;
}

/* clear text where control/tlsroutes refuses it: this host failed */
static enum smtp_state tls_refused (remote_ctx *c, char const *s1, char const *s2)
{
  c->lasterr.len = 0 ;
  if (!stralloc_cats(&c->lasterr, "4.7.5 ") || !stralloc_cats(&c->lasterr, peer) || !stralloc_cats(&c->lasterr, ": ")
   || !stralloc_cats(&c->lasterr, s1) || !stralloc_cats(&c->lasterr, s2)
   || !stralloc_cats(&c->lasterr, c->tlspolicy == REMOTE_TLS_VERIFY ? " (TLS policy verify)" : " (TLS policy encrypt)")
   || !stralloc_0(&c->lasterr))
    c->lasterr.len = 0 ;
  hangup() ;
  return S_NEXT ;
}

/* after EHLO or HELO: STARTTLS, or on in clear text where allowed */
static enum smtp_state tls_next (remote_ctx *c)
{
  if (k.tls) return S_SIZE ;
  if (k.starttls && c->tlspolicy != REMOTE_TLS_NONE && !cleartext) return S_STARTTLS ;
  if (c->tlspolicy >= REMOTE_TLS_ENCRYPT) return tls_refused(c, "STARTTLS not offered", "") ;
  note(cleartext ? " (no TLS, the handshake failed)" : " (no TLS)") ;
  return S_SIZE ;
}

static int dial (remote_ctx *c, remote_dest const *d)
{
  tain deadline, t ;
  k.tls = 0 ;
  k.fd = socket_tcp46_nbcoe(ip46_is6(&d->ip)) ;
  if (k.fd < 0) { next_host(c, -1, "creating a socket") ; return 0 ; }
  tain_from_millisecs(&t, c->timeoutconnect * 1000) ;
  remote_deadline(&deadline, &t, &k.end) ;
  if (!socket_deadlineconnstamp46_g(k.fd, &d->ip, d->port, &deadline))
  {
    int e = errno ;
    c->lasterr.len = 0 ;
    errno = e ;
    if (!stralloc_cats(&c->lasterr, errno == ETIMEDOUT ? "4.4.2 connect to " : "4.4.1 connect to ")
     || !stralloc_cats(&c->lasterr, peer) || !stralloc_cats(&c->lasterr, ": ")
     || !stralloc_cats(&c->lasterr, errno == ETIMEDOUT ? "timed out" : strerror(errno)) || !stralloc_0(&c->lasterr))
      c->lasterr.len = 0 ;
    hangup() ;
    return 0 ;
  }
  buffer_init(&k.in, &buffer_read, k.fd, k.inbuf, sizeof k.inbuf) ;
  buffer_init(&k.out, &buffer_write, k.fd, k.outbuf, sizeof k.outbuf) ;
  return 1 ;
}

static enum smtp_state st_greeting (remote_ctx *c)
{
  int code = remote_reply_get(&k, 0) ;
  if (code >= 500) return said_all(c, code, "greeting", 0) ;
  if (code < 200 || code >= 300) return next_host(c, code, "greeting") ;
  return S_EHLO ;
}

static enum smtp_state st_ehlo (remote_ctx *c)
{
  int code ;
  /* after STARTTLS nothing said before counts (RFC 3207 4.2) */
  k.pipelining = k.eightbitmime = k.hassize = k.starttls = k.smtputf8 = 0 ;
  if (!put("EHLO ", c->me.s, "") || !flush()) return next_host(c, -1, "sending EHLO") ;
  code = remote_reply_get(&k, 1) ;
  if (code >= 500) return S_HELO ;
  if (code < 200 || code >= 300) return next_host(c, code, "EHLO") ;
  return tls_next(c) ;
}

static enum smtp_state st_helo (remote_ctx *c)
{
  int code ;
  k.pipelining = k.eightbitmime = k.hassize = k.starttls = k.smtputf8 = 0 ;
  if (!put("HELO ", c->me.s, "") || !flush()) return next_host(c, -1, "sending HELO") ;
  code = remote_reply_get(&k, 0) ;
  if (code >= 500) return said_all(c, code, "HELO", 0) ;
  if (code < 200 || code >= 300) return next_host(c, code, "HELO") ;
  return tls_next(c) ;
}

static enum smtp_state st_starttls (remote_ctx *c)
{
  stralloc err = STRALLOC_ZERO ;
  char tlsnote[REMOTE_TLSNOTE_MAX] ;
  int verify = c->tlspolicy == REMOTE_TLS_VERIFY, code, ok ;
  if (!put("STARTTLS", "", "") || !flush()) return next_host(c, -1, "sending STARTTLS") ;
  code = remote_reply_get(&k, 0) ;
  if (code < 0) return next_host(c, code, "STARTTLS") ;
  if (code != 220)
  {
    if (c->tlspolicy >= REMOTE_TLS_ENCRYPT)
    {
      if (!stralloc_0(&k.reply)) k.reply.len = 0 ;
      return tls_refused(c, "STARTTLS refused: ", k.reply.len ? k.reply.s : "") ;
    }
    note(" (no TLS, STARTTLS refused)") ;
    return S_SIZE ;
  }
  /* what came after the 220 was sent before the handshake: never to be
     read as if it came through TLS (the CVE-2011-0411 class) */
  if (buffer_len(&k.in))
  {
    if (!stralloc_cats(&err, "TLS handshake failed: data after 220 to STARTTLS") || !stralloc_0(&err)) err.len = 0 ;
    ok = 0 ;
  }
  else ok = remote_tls_start(&k, tlsname, verify, &err) ;
  if (!ok)
  {
    enum smtp_state s = S_CLEAR ;
    if (c->tlspolicy >= REMOTE_TLS_ENCRYPT) s = tls_refused(c, err.len ? err.s : "TLS handshake failed", "") ;
    else
    {
      strerr_warnw4x(peer, ": ", err.len ? err.s : "TLS handshake failed", "; trying again in clear text") ;
      hangup() ;
    }
    stralloc_free(&err) ;
    return s ;
  }
  remote_tls_note(&k, verify, tlsnote) ;
  note(tlsnote) ;
  return S_EHLO ;
}

/* a server that announced its limit is not sent a larger message; one
   without SMTPUTF8 no UTF-8 address (RFC 6531 3.4: a permanent failure,
   the message is not changed to fit) */
static enum smtp_state st_size (remote_ctx *c)
{
  char num[UINT64_FMT], lim[UINT64_FMT] ;
  if (c->utf8env && !k.smtputf8)
  {
    remote_result_all(c, 'D', "5.6.7 ", peer, " does not offer SMTPUTF8, needed for a non-ASCII address") ;
    insync = 1 ;   /* nothing was sent: the connection serves the next message */
    return S_DECIDED ;
  }
  if (!k.hassize || c->wiresize <= k.sizemax) return trans > 1 ? S_RSET : S_MAIL ;
  insync = 1 ;   /* nothing was sent: the next message may be smaller */
  num[uint64_fmt(num, c->wiresize)] = 0 ;
  lim[uint64_fmt(lim, k.sizemax)] = 0 ;
  for (unsigned int i = 0 ; i < c->n ; i++)
  {
    remote_result_set(c->rcpts + i, 'D', "5.3.4 message size ", num, " exceeds the limit of ") ;
    if (stralloc_cats(&c->rcpts[i].text, peer) && stralloc_cats(&c->rcpts[i].text, ", ")) stralloc_cats(&c->rcpts[i].text, lim) ;
  }
  return S_DECIDED ;
}

/* a kept connection: RSET first, alone or at the head of the pipelined
   group; no 2xx to it means the connection did not survive its rest */
static int rset_ok (void)
{
  int code = remote_reply_get(&k, 0) ;
  rsetpending = 0 ;
  return code >= 200 && code < 300 ;
}

static enum smtp_state st_rset (remote_ctx *c)
{
  (void)c ;
  insync = 0 ;
  if (!put("RSET", "", "")) return stale() ;
  if (k.pipelining) { rsetpending = 1 ; return S_MAIL ; }
  if (!flush() || !rset_ok()) return stale() ;
  return S_MAIL ;
}

/* MAIL, and with PIPELINING every RCPT and DATA too, in one write (RFC 2920) */
static enum smtp_state st_mail (remote_ctx *c)
{
  char num[UINT64_FMT] ;
  stralloc mail = STRALLOC_ZERO ;
  int ok, code ;
  num[uint64_fmt(num, c->wiresize)] = 0 ;
  ok = stralloc_cats(&mail, "MAIL FROM:<") && stralloc_cats(&mail, c->sender) && stralloc_cats(&mail, ">")
    && (!k.hassize || (stralloc_cats(&mail, " SIZE=") && stralloc_cats(&mail, num)))
    && (!c->eightbit || !k.eightbitmime || stralloc_cats(&mail, " BODY=8BITMIME"))
    && (!k.smtputf8 || !(c->utf8env || c->utf8header) || stralloc_cats(&mail, " SMTPUTF8"))
    && stralloc_0(&mail) ;
  if (!ok) { stralloc_free(&mail) ; remote_result_all(c, 'Z', "4.3.0 out of memory", "", "") ; return S_DECIDED ; }
  ok = put(mail.s, "", "") ;
  stralloc_free(&mail) ;
  if (ok && k.pipelining)
  {
    for (unsigned int i = 0 ; ok && i < c->n ; i++) ok = put("RCPT TO:<", c->rcpts[i].addr, ">") ;
    ok = ok && put("DATA", "", "") ;
  }
  insync = saw421 = 0 ;
  if (!ok || !flush()) return trans > 1 ? stale() : lost_all(c, "sending MAIL FROM") ;
  if (rsetpending && !rset_ok()) return stale() ;
  code = remote_reply_get(&k, 0) ;
  if (trans > 1 && (code < 0 || code == 421)) return stale() ;
  if (code < 0) return lost_all(c, "in reply to MAIL FROM") ;
  if (code < 200 || code >= 300)
  {
    /* pipelined RCPTs and DATA are still to be answered */
    if (!k.pipelining) in_step(code) ;
    return said_all(c, code, "MAIL FROM", 0) ;
  }
  rcptnext = accepted = 0 ;
  return S_RCPT ;
}

/* one recipient a turn */
static enum smtp_state st_rcpt (remote_ctx *c)
{
  remote_rcpt *rc = c->rcpts + rcptnext++ ;
  int code ;
  if (!k.pipelining && (!put("RCPT TO:<", rc->addr, ">") || !flush())) return lost_all(c, "sending RCPT TO") ;
  code = remote_reply_get(&k, 0) ;
  if (code < 0) return lost_all(c, "in reply to RCPT TO") ;
  if (code >= 200 && code < 300) { rc->accepted = 1 ; accepted++ ; }
  else
  {
    if (code == 421) saw421 = 1 ;
    said(rc, code, "RCPT TO") ;
  }
  if (rcptnext < c->n) return S_RCPT ;
  return accepted ? S_DATA : S_NODATA ;
}

/* no recipient taken: a pipelined DATA must still be answered; a server
   that says 354 with no recipient gets an empty message it cannot deliver */
static enum smtp_state st_nodata (remote_ctx *c)
{
  int code = 250 ;
  (void)c ;
  if (k.pipelining)
  {
    code = remote_reply_get(&k, 0) ;
    if (code == 354) code = put(".", "", "") && flush() ? remote_reply_get(&k, 0) : -1 ;
  }
  if (code < 0) hangup() ;
  else in_step(code) ;
  return S_DECIDED ;
}

static enum smtp_state st_data (remote_ctx *c)
{
  int code ;
  if (!k.pipelining && (!put("DATA", "", "") || !flush())) return lost_all(c, "sending DATA") ;
  code = remote_reply_get(&k, 0) ;
  if (code < 0) return lost_all(c, "in reply to DATA") ;
  if (code == 354) return S_BODY ;
  if (code >= 400) in_step(code) ;
  said_all(c, code >= 300 && code < 400 ? 451 : code, "DATA", 1) ;
  remote_result_all(c, 'Z', "4.5.0 ", peer, ": unexpected reply to DATA") ;
  return S_DECIDED ;
}

static enum smtp_state st_body (remote_ctx *c)
{
  if (!remote_body_send(&k) || !flush()) return lost_all(c, "while sending the message") ;
  return S_DOT ;
}

static enum smtp_state st_dot (remote_ctx *c)
{
  int code = remote_reply_get(&k, 0) ;
  if (code < 0) return lost_all(c, "after end of data") ;
  in_step(code) ;
  if (code < 200 || code >= 300) return said_all(c, code, "end of data", 1) ;
  if (!stralloc_0(&k.reply)) { remote_result_all(c, 'Z', "4.3.0 out of memory", "", "") ; return S_DECIDED ; }
  for (unsigned int i = 0 ; i < c->n ; i++)
    if (c->rcpts[i].accepted) remote_result_set(c->rcpts + i, 'K', peer, " accepted: ", k.reply.s) ;
  return S_DECIDED ;
}

typedef enum smtp_state step_func (remote_ctx *) ;
static step_func *const steps[S_NEXT] =
{
  [S_GREETING] = &st_greeting, [S_EHLO] = &st_ehlo, [S_HELO] = &st_helo, [S_STARTTLS] = &st_starttls, [S_SIZE] = &st_size,
  [S_RSET] = &st_rset, [S_MAIL] = &st_mail, [S_RCPT] = &st_rcpt, [S_NODATA] = &st_nodata, [S_DATA] = &st_data,
  [S_BODY] = &st_body, [S_DOT] = &st_dot,
} ;

/* 1 when every recipient is decided, 0 to try the next address */
/* each read and write's timeout, and the session's length */
static void clocks (remote_ctx const *c, tain *t)
{
  tain_from_millisecs(&k.timeout, c->timeoutremote > 2000000 ? 2000000000 : c->timeoutremote * 1000) ;
  tain_ulong(t, c->timeoutsession + (c->wiresize / REMOTE_MIN_RATE > 86400 * 365 ? 86400 * 365 : c->wiresize / REMOTE_MIN_RATE)) ;
}

/* 1 when every recipient is decided, 0 to try the next address */
int remote_smtp_session (remote_ctx *c, remote_dest const *d)
{
  enum smtp_state s = S_CLEAR ;
  size_t dlen = strlen(c->domain) ;
  tain t ;
  if (k.fd >= 0) strerr_dief1x(101, "a session started while another is open") ;
  /* the name the certificate must bear: the host connected to, or for
     an address literal the recipient domain (when it is a name) */
  tlsname = d->host[0] != '[' ? d->host : c->domain[0] != '[' ? c->domain : 0 ;
  clocks(c, &t) ;
  /* what the connection may be kept for: a name too long is kept for none */
  if (dlen > REMOTE_NAME_MAX) dlen = 0 ;
  memcpy(kdomain, c->domain, dlen) ;
  kdomain[dlen] = 0 ;
  kpolicy = c->tlspolicy ;
  /* a second connection, in clear text, only after a failed handshake */
  for (cleartext = 0 ; s == S_CLEAR ; cleartext++)
  {
    if (cleartext > 1) strerr_dief1x(101, "a third connection to one address") ;
    tain_now_g() ;
    tain_add_g(&k.end, &t) ;
    set_peer(d) ;
    trans = 1 ;
    peerbase = 0 ;
    if (!dial(c, d)) return 0 ;
    for (s = S_GREETING ; s < S_NEXT ;) s = (*steps[s])(c) ;
  }
  return s == S_DECIDED ;
}

int remote_smtp_reuse (remote_ctx *c)
{
  enum smtp_state s ;
  char num[UINT_FMT] ;
  tain t ;
  if (k.fd < 0) return 0 ;
  if (!insync || !kdomain[0] || strcasecmp(kdomain, c->domain) || kpolicy != c->tlspolicy)
  {
    remote_smtp_quit() ;
    return 0 ;
  }
  trans++ ;
  if (!peerbase) peerbase = strlen(peer) ;
  peer[peerbase] = 0 ;
  num[uint_fmt(num, trans)] = 0 ;
  note(" (reused, transaction ") ;
  note(num) ;
  note(")") ;
  clocks(c, &t) ;
  tain_now_g() ;
  tain_add_g(&k.end, &t) ;
  for (s = S_SIZE ; s < S_NEXT ;) s = (*steps[s])(c) ;
  return s == S_DECIDED ;
}

int remote_smtp_kept (void)
{
  return k.fd >= 0 && insync ? k.fd : -1 ;
}

void remote_smtp_drop (void)
{
  if (k.fd >= 0) hangup() ;
}

/* after the results are out: QUIT, briefly waited for */
void remote_smtp_quit (void)
{
  if (k.fd < 0) return ;
  tain_from_millisecs(&k.timeout, QUIT_WAIT * 1000) ;
  tain_now_g() ;
  tain_add_g(&k.end, &k.timeout) ;
  if (put("QUIT", "", "") && flush()) remote_reply_get(&k, 0) ;
  hangup() ;
}
