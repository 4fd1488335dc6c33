/* The client's side: fds 0 and 1 non-blocking, every wait bounded by
   the session's lifetime; a write by the timeout, a read by the line's
   deadline (the timeout from the line's start, not from the last byte:
   a client dripping a byte at a time is no slower to drop). */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "smtpd.h"

static char inbuf[SMTPD_IN_MAX] ;
static size_t inpos = 0, inlen = 0 ;   /* unread: inbuf[inpos .. inlen) */
static char outbuf[SMTPD_OUT_MAX] ;
static size_t outlen = 0 ;
static tain start, lifetime, linedl ;
static int got = 0 ;       /* bytes came since the line started */
static int skipping = 0 ;  /* inside a command line already too long */
static int dead = 0 ;      /* the client cannot be written to */

void smtpd_io_init (void)
{
  static int clock = 0 ;
  inpos = inlen = outlen = 0 ;
  skipping = dead = 0 ;
  if (ndelay_on(0) < 0 || ndelay_on(1) < 0) strerr_diefu1sys(111, "set descriptors non-blocking") ;
  if (!clock++) tain_now_set_stopwatch_g() ;
  else tain_now_g() ;
  start = STAMP ;
  tain_addsec(&lifetime, &start, SMTPD_SESSIONTIME) ;
  smtpd_io_line() ;
}

void smtpd_io_session (void)
{
  tain_addsec(&lifetime, &start, (int)smtpd_config.sessiontime) ;
}

void smtpd_io_line (void)
{
  tain_now_g() ;
  tain_addsec_g(&linedl, (int)smtpd_config.timeout) ;
  got = 0 ;
}

/* d, or the end of the lifetime if sooner; 1 if the lifetime is what
   ends it */
static int bounded (tain *d)
{
  if (tain_less(&lifetime, d)) { *d = lifetime ; return 1 ; }
  return 0 ;
}

/* waits until fd is ready or the deadline d (bounded by the lifetime);
   0 on timeout */
static int await (int fd, short events, tain d, int *life)
{
  iopause_fd x = { .fd = fd, .events = events } ;
  int r ;
  *life = bounded(&d) ;
  r = iopause_g(&x, 1, &d) ;
  if (r < 0) strerr_diefu1sys(111, "iopause") ;
  return r ;
}

void smtpd_flush (void)
{
  size_t done = 0 ;
  if (dead) { outlen = 0 ; return ; }
  while (done < outlen)
  {
    ssize_t w = write(1, outbuf + done, outlen - done) ;
    int life ;
    if (w > 0) { done += (size_t)w ; continue ; }
    if (w < 0 && errno == EINTR) continue ;
    if (w < 0 && errno != EAGAIN)
    {
      dead = 1 ;
      smtpd_log_start("end") ;
      smtpd_log_put(": write error: ") ;
      smtpd_log_put(strerror(errno)) ;
      smtpd_log_end() ;
      _exit(0) ;
    }
    tain d ;
    tain_now_g() ;
    tain_addsec_g(&d, (int)smtpd_config.timeout) ;
    if (!await(1, IOPAUSE_WRITE, d, &life))
    {
      dead = 1 ;
      smtpd_log_start("end") ;
      smtpd_log_put(life ? ": lifetime exceeded writing" : ": timeout writing") ;
      smtpd_log_end() ;
      _exit(0) ;
    }
  }
  outlen = 0 ;
}

void smtpd_put (char const *s, size_t len)
{
  while (len)
  {
    size_t n = sizeof outbuf - outlen ;
    if (!n) { smtpd_flush() ; continue ; }
    if (n > len) n = len ;
    memcpy(outbuf + outlen, s, n) ;
    outlen += n ; s += n ; len -= n ;
  }
}

void smtpd_puts (char const *s)
{
  smtpd_put(s, strlen(s)) ;
}

void smtpd_reply (char const *code, char const *status, char const *text)
{
  /* a reply is never split by an early flush */
  size_t need = strlen(code) + 1 + (status ? strlen(status) + 1 : 0) + strlen(text) + 2 ;
  if (sizeof outbuf - outlen < need) smtpd_flush() ;
  smtpd_puts(code) ;
  smtpd_put(" ", 1) ;
  if (status) { smtpd_puts(status) ; smtpd_put(" ", 1) ; }
  smtpd_puts(text) ;
  smtpd_put("\r\n", 2) ;
}

void smtpd_bye (char const *status, char const *text, char const *why)
{
  smtpd_reply("421", status, text) ;
  smtpd_flush() ;
  smtpd_log_start("end") ;
  smtpd_log_put(": ") ;
  smtpd_log_put(why) ;
  smtpd_log_end() ;
  _exit(0) ;
}

/* Replies go out before we wait: a pipelining client gets them all once
   its input is used up, and never waits on replies we hold. */
int smtpd_fill (void)
{
  if (inpos == inlen) inpos = inlen = 0 ;
  else if (inpos) { memmove(inbuf, inbuf + inpos, inlen - inpos) ; inlen -= inpos ; inpos = 0 ; }
  if (inlen == sizeof inbuf) return 1 ;
  smtpd_flush() ;
  for (;;)
  {
    ssize_t r = read(0, inbuf + inlen, sizeof inbuf - inlen) ;
    int life ;
    if (r > 0) { inlen += (size_t)r ; got = 1 ; return 1 ; }
    if (!r) return 0 ;
    if (errno == EINTR) continue ;
    if (errno == ECONNRESET) return 0 ;
    if (errno != EAGAIN) strerr_diefu1sys(111, "read from the client") ;
    if (!await(0, IOPAUSE_READ, linedl, &life))
    {
      if (life) smtpd_bye("4.4.2", "session too long, closing", "lifetime exceeded") ;
      /* some of the line came, not all of it: a slow sender */
      smtpd_bye("4.4.2", "timeout, closing", got ? "timeout, line incomplete" : "timeout") ;
    }
  }
}

size_t smtpd_io_drop (void)
{
  size_t n = inlen - inpos ;
  inpos = inlen = 0 ;
  skipping = 0 ;
  return n ;
}

size_t smtpd_avail (char **s)
{
  *s = inbuf + inpos ;
  return inlen - inpos ;
}

void smtpd_consume (size_t n)
{
  inpos += n ;
}

int smtpd_barelf = 0 ;

int smtpd_io_quiet (unsigned long ms)
{
  tain d, wait ;
  int life ;
  tain_now_g() ;
  tain_from_millisecs(&wait, (int)ms) ;
  tain_add_g(&d, &wait) ;
  if (!await(0, IOPAUSE_READ, d, &life)) return 1 ;
  for (;;)
  {
    /* what it said is read, so that the reply is not lost to a reset */
    ssize_t r = read(0, inbuf, sizeof inbuf) ;
    if (r > 0) return 0 ;
    if (!r) return -1 ;
    if (errno == EINTR) continue ;
    return errno == EAGAIN ? 1 : -1 ;
  }
}

/* A line ends at LF, with or without a CR before it (a bare LF is taken
   as CR LF, as Postfix's smtpd_forbid_bare_newline = normalize does); a
   CR anywhere else makes the line bad, whole. */
enum smtpd_line smtpd_getline (char **line, size_t *len)
{
  smtpd_io_line() ;
  got = inlen > inpos ;
  for (;;)
  {
    char *s = inbuf + inpos ;
    size_t n = inlen - inpos ;
    char *lf = memchr(s, '\n', n) ;
    if (lf)
    {
      size_t ll = (size_t)(lf - s) ;
      inpos += ll + 1 ;
      smtpd_barelf = !ll || s[ll - 1] != '\r' ;
      if (!smtpd_barelf) ll-- ;
      /* counted as if it ended in CR LF */
      if (skipping || ll + 2 > SMTPD_LINE_MAX) { skipping = 0 ; return LINE_LONG ; }
      if (memchr(s, '\r', ll)) return LINE_BARE ;
      *len = ll ;
      s[ll] = 0 ;
      *line = s ;
      return memchr(s, 0, ll) ? LINE_NUL : LINE_OK ;
    }
    if (skipping || n >= SMTPD_LINE_MAX)
    {
      /* too long: drop what we have and keep reading to the line's end */
      skipping = 1 ;
      inpos = inlen ;
    }
    if (!smtpd_fill()) return LINE_EOF ;
  }
}
