/* One SMTP session (RFC 5321) with one address, as an explicit sequence
   of states; every read and write has a deadline. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/ip46.h>
#include <skalibs/socket.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include <skalibs/unix-timed.h>
#include "remote.h"

static int fd = -1 ;
static buffer in, out ;
static char inbuf[4096], outbuf[16384] ;
static tain timeout ;       /* control/timeoutremote */
static stralloc reply = STRALLOC_ZERO ;  /* the last reply, lines joined by " / " */
static stralloc cmd = STRALLOC_ZERO ;
static char peer[REMOTE_NAME_MAX + IP46_FMT + UINT16_FMT + 4] ;
static int pipelining, eightbitmime, hassize ;
static uint64_t sizemax ;

/* -1 with errno at timeout (ETIMEDOUT), end of input (EPIPE) or error */
static int getch (char *ch, tain const *deadline)
{
  while (!buffer_len(&in))
  {
    ssize_t r = buffer_timed_fill_g(&in, deadline) ;
    if (r < 0) return -1 ;
    if (!r) return (errno = EPIPE, -1) ;
  }
  buffer_getnofill(&in, ch, 1) ;
  return 0 ;
}

static int digit (char c) { return c >= '0' && c <= '9' ; }

static void ehlo_keyword (char const *s, size_t len)
{
  if (len >= 10 && !strncasecmp(s, "PIPELINING", 10) && (len == 10 || s[10] == ' ')) pipelining = 1 ;
  else if (len >= 8 && !strncasecmp(s, "8BITMIME", 8) && (len == 8 || s[8] == ' ')) eightbitmime = 1 ;
  else if (len >= 4 && !strncasecmp(s, "SIZE", 4) && (len == 4 || s[4] == ' '))
  {
    uint64_t n = 0 ;
    size_t i = 5 ;
    while (i < len && digit(s[i]) && n < UINT64_MAX / 10 - 10) n = n * 10 + (s[i++] - '0') ;
    hassize = n > 0 ;  /* SIZE 0 or no number: no fixed limit (RFC 1870) */
    sizemax = n ;
  }
}

/* A reply: its code, or -1 with errno ETIMEDOUT, EPIPE, EPROTO (not a
   reply) or EMSGSIZE (past the limits). */
static int getreply (int ehlo, tain const *tto)
{
  tain deadline ;
  unsigned int lines = 0 ;
  int code = -1 ;
  reply.len = 0 ;
  tain_now_g() ;
  tain_add_g(&deadline, tto) ;
  for (;;)
  {
    char line[REPLY_LINE_KEEP] ;
    size_t len = 0, total = 0 ;
    char ch ;
    int more ;
    for (;;)
    {
      if (getch(&ch, &deadline) < 0) return -1 ;
      if (ch == '\n') break ;
      if (++total > REPLY_LINE_MAX) return (errno = EMSGSIZE, -1) ;
      if (len < sizeof line) line[len++] = ch ;
    }
    if (total <= sizeof line && len && line[len-1] == '\r') len-- ;
    if (++lines > REPLY_LINES_MAX) return (errno = EMSGSIZE, -1) ;
    if (len < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2]) || line[0] < '2' || line[0] > '5'
     || (len > 3 && line[3] != ' ' && line[3] != '-'))
      return (errno = EPROTO, -1) ;
    if (code < 0) code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') ;
    more = len > 3 && line[3] == '-' ;
    if (reply.len < REMOTE_TEXT_MAX)
      if ((reply.len && !stralloc_cats(&reply, " / ")) || !stralloc_catb(&reply, line, len)) return -1 ;
    if (ehlo && lines > 1 && len > 4) ehlo_keyword(line + 4, len - 4) ;
    if (!more) return code ;
  }
}

static int put (char const *s1, char const *s2, char const *s3)
{
  tain deadline ;
  cmd.len = 0 ;
  if (!stralloc_cats(&cmd, s1) || !stralloc_cats(&cmd, s2) || !stralloc_cats(&cmd, s3) || !stralloc_catb(&cmd, "\r\n", 2)) return 0 ;
  tain_now_g() ;
  tain_add_g(&deadline, &timeout) ;
  return buffer_timed_put_g(&out, cmd.s, cmd.len, &deadline) == cmd.len ;
}

static int flush (void)
{
  tain deadline ;
  tain_now_g() ;
  tain_add_g(&deadline, &timeout) ;
  return buffer_timed_flush_g(&out, &deadline) ;
}

/* why the connection failed, in a result text */
static char const *why (void)
{
  switch (errno)
  {
    case ETIMEDOUT : return "timed out" ;
    case EPIPE : case ECONNRESET : return "connection lost" ;
    case EPROTO : return "malformed reply" ;
    case EMSGSIZE : return "reply too long" ;
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
static void lost_all (remote_ctx *c, char const *when)
{
  stralloc t = STRALLOC_ZERO ;
  lost(&t, when) ;
  remote_result_all(c, 'Z', t.len ? t.s : "4.4.2 connection lost", "", "") ;
  stralloc_free(&t) ;
  fd_close(fd) ;
  fd = -1 ;
}

/* the server's reply as a result text */
static void said (remote_rcpt *r, int code, char const *inreplyto)
{
  char st = code >= 500 ? 'D' : 'Z' ;
  if (!stralloc_0(&reply)) { remote_result_set(r, 'Z', "4.3.0 out of memory", "", "") ; return ; }
  reply.len-- ;
  remote_result_set(r, st, peer, " said: ", reply.s) ;
  if (r->status == st && inreplyto && (stralloc_cats(&r->text, " (in reply to ") && stralloc_cats(&r->text, inreplyto) && stralloc_cats(&r->text, ")")))
    if (r->text.len > REMOTE_TEXT_MAX) r->text.len = REMOTE_TEXT_MAX ;
}

static void said_all (remote_ctx *c, int code, char const *inreplyto, int acceptedonly)
{
  for (unsigned int i = 0 ; i < c->n ; i++)
    if (!acceptedonly || c->rcpts[i].accepted) said(c->rcpts + i, code, inreplyto) ;
}

static void next_host (remote_ctx *c, int code, char const *inreplyto)
{
  c->lasterr.len = 0 ;
  if (code < 0) lost(&c->lasterr, inreplyto) ;
  else if (!stralloc_0(&reply)
    || !stralloc_cats(&c->lasterr, peer) || !stralloc_cats(&c->lasterr, " said: ")
    || !stralloc_cats(&c->lasterr, reply.s) || !stralloc_cats(&c->lasterr, " (in reply to ")
    || !stralloc_cats(&c->lasterr, inreplyto) || !stralloc_cats(&c->lasterr, ")") || !stralloc_0(&c->lasterr))
    c->lasterr.len = 0 ;
  fd_close(fd) ;
  fd = -1 ;
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

static int dial (remote_ctx *c, remote_dest const *d)
{
  tain deadline ;
  fd = socket_tcp46_nbcoe(ip46_is6(&d->ip)) ;
  if (fd < 0) { next_host(c, -1, "creating a socket") ; return 0 ; }
  tain_now_g() ;
  tain_addsec_g(&deadline, c->timeoutconnect) ;
  if (!socket_deadlineconnstamp46_g(fd, &d->ip, d->port, &deadline))
  {
    int e = errno ;
    c->lasterr.len = 0 ;
    errno = e ;
    if (!stralloc_cats(&c->lasterr, errno == ETIMEDOUT ? "4.4.2 connect to " : "4.4.1 connect to ")
     || !stralloc_cats(&c->lasterr, peer) || !stralloc_cats(&c->lasterr, ": ")
     || !stralloc_cats(&c->lasterr, errno == ETIMEDOUT ? "timed out" : strerror(errno)) || !stralloc_0(&c->lasterr))
      c->lasterr.len = 0 ;
    fd_close(fd) ;
    fd = -1 ;
    return 0 ;
  }
  buffer_init(&in, &buffer_read, fd, inbuf, sizeof inbuf) ;
  buffer_init(&out, &buffer_write, fd, outbuf, sizeof outbuf) ;
  return 1 ;
}

/* greeting and EHLO (or HELO): 1 ready, 0 next host, -1 decided */
static int hello (remote_ctx *c)
{
  int code = getreply(0, &timeout) ;
  if (code < 0 || (code >= 400 && code < 500)) { next_host(c, code, "greeting") ; return 0 ; }
  if (code >= 500) { said_all(c, code, "greeting", 0) ; return -1 ; }
  if (code >= 300) { next_host(c, code, "greeting") ; return 0 ; }
  pipelining = eightbitmime = hassize = 0 ;
  if (!put("EHLO ", c->me.s, "") || !flush()) { next_host(c, -1, "sending EHLO") ; return 0 ; }
  code = getreply(1, &timeout) ;
  if (code >= 500)
  {
    pipelining = eightbitmime = hassize = 0 ;
    if (!put("HELO ", c->me.s, "") || !flush()) { next_host(c, -1, "sending HELO") ; return 0 ; }
    code = getreply(0, &timeout) ;
    if (code >= 500) { said_all(c, code, "HELO", 0) ; return -1 ; }
    if (code < 200 || code >= 300) { next_host(c, code, "HELO") ; return 0 ; }
    return 1 ;
  }
  if (code < 200 || code >= 300) { next_host(c, code, "EHLO") ; return 0 ; }
  return 1 ;
}

int remote_smtp_session (remote_ctx *c, remote_dest const *d)
{
  char num[UINT64_FMT] ;
  unsigned int accepted = 0 ;
  int code, r ;
  tain_from_millisecs(&timeout, c->timeoutremote > 2000000 ? 2000000000 : c->timeoutremote * 1000) ;
  set_peer(d) ;
  if (!dial(c, d)) return 0 ;
  r = hello(c) ;
  if (r <= 0) return !!r ;
  if (hassize && c->wiresize > sizemax)
  {
    char lim[UINT64_FMT] ;
    num[uint64_fmt(num, c->wiresize)] = 0 ;
    lim[uint64_fmt(lim, sizemax)] = 0 ;
    for (unsigned int i = 0 ; i < c->n ; i++)
    {
      remote_result_set(c->rcpts + i, 'D', "5.3.4 message size ", num, " exceeds the limit of ") ;
      if (stralloc_cats(&c->rcpts[i].text, peer) && stralloc_cats(&c->rcpts[i].text, ", ")) stralloc_cats(&c->rcpts[i].text, lim) ;
    }
    return 1 ;
  }

  /* MAIL, RCPT..., and with PIPELINING DATA too, in one write (RFC 2920) */
  num[uint64_fmt(num, c->wiresize)] = 0 ;
  cmd.len = 0 ;
  if (!stralloc_cats(&cmd, "MAIL FROM:<") || !stralloc_cats(&cmd, c->sender) || !stralloc_cats(&cmd, ">")
   || (hassize && (!stralloc_cats(&cmd, " SIZE=") || !stralloc_cats(&cmd, num)))
   || (c->eightbit && eightbitmime && !stralloc_cats(&cmd, " BODY=8BITMIME"))
   || !stralloc_0(&cmd))
  { remote_result_all(c, 'Z', "4.3.0 out of memory", "", "") ; return 1 ; }
  {
    stralloc mail = STRALLOC_ZERO ;
    int ok = stralloc_copyb(&mail, cmd.s, cmd.len) && put(mail.s, "", "") ;
    stralloc_free(&mail) ;
    if (ok && pipelining)
    {
      for (unsigned int i = 0 ; ok && i < c->n ; i++) ok = put("RCPT TO:<", c->rcpts[i].addr, ">") ;
      ok = ok && put("DATA", "", "") ;
    }
    if (!ok || !flush()) { lost_all(c, "sending MAIL FROM") ; return 1 ; }
  }
  code = getreply(0, &timeout) ;
  if (code < 0) { lost_all(c, "in reply to MAIL FROM") ; return 1 ; }
  if (code < 200 || code >= 300) { said_all(c, code, "MAIL FROM", 0) ; return 1 ; }
  for (unsigned int i = 0 ; i < c->n ; i++)
  {
    remote_rcpt *rc = c->rcpts + i ;
    if (!pipelining && (!put("RCPT TO:<", rc->addr, ">") || !flush())) { lost_all(c, "sending RCPT TO") ; return 1 ; }
    code = getreply(0, &timeout) ;
    if (code < 0) { lost_all(c, "in reply to RCPT TO") ; return 1 ; }
    if (code >= 200 && code < 300) { rc->accepted = 1 ; accepted++ ; }
    else said(rc, code, "RCPT TO") ;
  }
  if (!accepted)
  {
    /* pipelined DATA must still be answered; a server that says 354
       with no recipient gets an empty message it cannot deliver */
    if (pipelining && getreply(0, &timeout) == 354)
    {
      if (!put(".", "", "") || !flush() || getreply(0, &timeout) < 0) { fd_close(fd) ; fd = -1 ; }
    }
    return 1 ;
  }
  if (!pipelining && (!put("DATA", "", "") || !flush())) { lost_all(c, "sending DATA") ; return 1 ; }
  code = getreply(0, &timeout) ;
  if (code < 0) { lost_all(c, "in reply to DATA") ; return 1 ; }
  if (code != 354) { said_all(c, code >= 300 && code < 400 ? 451 : code, "DATA", 1) ; remote_result_all(c, 'Z', "4.5.0 ", peer, ": unexpected reply to DATA") ; return 1 ; }
  if (!remote_body_send(&out, &timeout) || !flush()) { lost_all(c, "while sending the message") ; return 1 ; }
  code = getreply(0, &timeout) ;
  if (code < 0) { lost_all(c, "after end of data") ; return 1 ; }
  if (code >= 200 && code < 300)
  {
    if (!stralloc_0(&reply)) { remote_result_all(c, 'Z', "4.3.0 out of memory", "", "") ; return 1 ; }
    for (unsigned int i = 0 ; i < c->n ; i++)
      if (c->rcpts[i].accepted) remote_result_set(c->rcpts + i, 'K', peer, " accepted: ", reply.s) ;
    return 1 ;
  }
  said_all(c, code, "end of data", 1) ;
  return 1 ;
}

/* after the results are out: QUIT, briefly waited for */
void remote_smtp_quit (void)
{
  tain t ;
  if (fd < 0) return ;
  tain_from_millisecs(&t, QUIT_WAIT * 1000) ;
  timeout = t ;
  if (put("QUIT", "", "") && flush()) getreply(0, &t) ;
  fd_close(fd) ;
  fd = -1 ;
}
