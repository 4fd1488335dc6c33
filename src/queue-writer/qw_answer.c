#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "queue-writer.h"

/* one netstring: the code in decimal, for 0 a space and the id. The
   socket buffer holds it: a short write is a client gone, nothing to do */
void qw_answer (qw_client *c, int code)
{
  char s[UINT_FMT * 2 + QUEUE_ID_MAX + 4] ;
  char t[UINT_FMT] ;
  size_t n, tn = uint_fmt(t, (unsigned int)code) ;
  size_t len = tn + (code ? 0 : 1 + strlen(c->m.id)) ;
  n = uint_fmt(s, (unsigned int)len) ;
  s[n++] = ':' ;
  memcpy(s + n, t, tn) ; n += tn ;
  if (!code)
  {
    s[n++] = ' ' ;
    memcpy(s + n, c->m.id, strlen(c->m.id)) ; n += strlen(c->m.id) ;
  }
  s[n++] = ',' ;
  if (send(c->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { }
  fd_close(c->fd) ;
  c->fd = -1 ;
}
