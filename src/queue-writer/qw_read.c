#include <errno.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "qexit.h"
#include "queue-writer.h"

static char buf[QW_READ_MAX] ;

/* digits of a netstring's length, bounded by max; -1 on a framing error,
   1 at the colon, 0 for more */
static int digit (qw_client *c, char ch, size_t max)
{
  if (ch == ':') return c->digits ? 1 : -1 ;
  if (ch < '0' || ch > '9') return -1 ;
  c->len = c->len * 10 + (size_t)(ch - '0') ;
  c->digits++ ;
  return c->len > max ? -2 : 0 ;
}

/* the message is whole: the intake file gets the info fields, and the
   envelope follows as it comes */
static int start_envelope (qw_client *c)
{
  stralloc sa = STRALLOC_ZERO ;
  int ok ;
  if (!qwrite_info(&sa, c->uid, getpid())) { qw_fail(c, QX_NOMEM) ; return 0 ; }
  ok = qwrite_intake(&c->m, sa.s, sa.len) ;
  stralloc_free(&sa) ;
  if (!ok)
  {
    strerr_warnwu2sys("write intake file for ", c->m.id) ;
    qw_fail(c, c->m.code) ;
    return 0 ;
  }
  return 1 ;
}

/* Runs the bytes through the framing; returns 0 once the client was
   answered with an error */
static int feed (qw_client *c, char const *s, size_t n)
{
  size_t i = 0 ;
  while (i < n)
  {
    int r ;
    size_t k ;
    switch (c->state)
    {
      case Q_LEN :
      case Q_ELEN :
        r = digit(c, s[i++], c->state == Q_LEN ? QW_CHUNK_MAX : ENV_BYTES_MAX) ;
        if (r == -2 && c->state == Q_ELEN) { qw_fail(c, QX_ENVLONG) ; return 0 ; }
        if (r < 0) { qw_fail(c, QX_READ) ; return 0 ; }
        if (!r) break ;
        c->need = c->len ;
        c->len = 0 ; c->digits = 0 ;
        if (c->state == Q_ELEN)
        {
          if (!start_envelope(c)) return 0 ;
          c->state = c->need ? Q_ENV : Q_ECOMMA ;
        }
        else c->state = c->need ? Q_DATA : Q_ENDCOMMA ;
        break ;
      case Q_DATA :
        k = n - i < c->need ? n - i : c->need ;
        c->total += k ;
        if (qw_databytes && c->total > qw_databytes) { qw_fail(c, QX_TOOBIG) ; return 0 ; }
        if (allwrite(c->m.body, s + i, k) < k)
        {
          strerr_warnwu2sys("write body ", c->m.id) ;
          qw_fail(c, QX_WRITE) ;
          return 0 ;
        }
        i += k ; c->need -= k ;
        if (!c->need) c->state = Q_COMMA ;
        break ;
      case Q_ENV :
        k = n - i < c->need ? n - i : c->need ;
        {
          /* bytes after the final NUL are ignored, as queue-inject does */
          size_t used = c->ec.done ? 0 : env_check_feed(&c->ec, s + i, k) ;
          if (c->ec.error != ENV_OK) { qw_fail(c, qwrite_env_code(c->ec.error)) ; return 0 ; }
          if (allwrite(c->m.intake, s + i, used) < used)
          {
            strerr_warnwu2sys("write intake file for ", c->m.id) ;
            qw_fail(c, QX_WRITE) ;
            return 0 ;
          }
        }
        i += k ; c->need -= k ;
        if (!c->need) c->state = Q_ECOMMA ;
        break ;
      case Q_COMMA :
      case Q_ENDCOMMA :
      case Q_ECOMMA :
        if (s[i++] != ',') { qw_fail(c, QX_READ) ; return 0 ; }
        if (c->state == Q_COMMA) { c->state = Q_LEN ; break ; }
        if (c->state == Q_ENDCOMMA) { c->state = Q_ELEN ; break ; }
        {
          enum env_error e = env_check_end(&c->ec) ;
          if (e != ENV_OK) { qw_fail(c, qwrite_env_code(e)) ; return 0 ; }
        }
        c->state = Q_READY ;
        return 1 ;  /* what follows is ignored */
      default : return 1 ;
    }
  }
  return 1 ;
}

int qw_read (qw_client *c)
{
  ssize_t r = read(c->fd, buf, sizeof buf) ;
  if (r < 0)
  {
    if (errno == EINTR || errno == EAGAIN) return 1 ;
    qw_fail(c, QX_READ) ;
    return 0 ;
  }
  /* gone before its envelope was whole: nothing is queued */
  if (!r) { qw_fail(c, QX_READ) ; return 0 ; }
  tain_addsec_g(&c->deadline, QW_TIMEOUT) ;
  if (tain_less(&c->end, &c->deadline)) c->deadline = c->end ;
  return feed(c, buf, (size_t)r) ;
}
