#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "qinject.h"

/* The writer's answer "len:code[ id]," (queue-writer(8)); it may have
   come early, when the writer gave up on the message: it is read
   whatever happened to our writes. */
static int answer (qinject *q)
{
  char s[QINJECT_ANSWER_MAX + 1] ;
  size_t n = 0, len, i, hn ;
  unsigned int code ;
  while (n < sizeof s)
  {
    ssize_t r = read(q->sock, s + n, sizeof s - n) ;
    if (r < 0) { if (errno == EINTR) continue ; return -1 ; }
    if (!r) break ;
    n += (size_t)r ;
    if (s[n - 1] == ',') break ;
  }
  hn = size_scan(s, &len) ;
  if (!hn || hn >= n || s[hn] != ':' || hn + 1 + len + 1 != n || s[n - 1] != ',') return (errno = EPROTO, -1) ;
  i = uint_scan(s + hn + 1, &code) ;
  if (!i || code > 255) return (errno = EPROTO, -1) ;
  i += hn + 1 ;
  if (!code)
  {
    size_t idlen = n - 1 - i - 1 ;
    if (s[i] != ' ' || !idlen || idlen > QUEUE_ID_MAX) return (errno = EPROTO, -1) ;
    memcpy(q->id, s + i + 1, idlen) ;
    q->id[idlen] = 0 ;
  }
  else if (i != n - 1) return (errno = EPROTO, -1) ;
  return (int)code ;
}

static int writer_finish (qinject *q, char const *env, size_t envlen)
{
  int code ;
  if (env && !q->broken)
  {
    char head[3 + SIZE_FMT + 1] = "0:," ;
    size_t hn = 3 + size_fmt(head + 3, envlen) ;
    struct iovec v[3] ;
    head[hn++] = ':' ;
    v[0].iov_base = head ; v[0].iov_len = hn ;
    v[1].iov_base = (char *)env ; v[1].iov_len = envlen ;
    v[2].iov_base = "," ; v[2].iov_len = 1 ;
    if (allwritev(q->sock, v, 3) < hn + envlen + 1) q->broken = 1 ;
  }
  /* without an envelope the writer queues nothing, and says so at EOF */
  if (!env) shutdown(q->sock, SHUT_WR) ;
  code = answer(q) ;
  {
    int e = errno ;
    fd_close(q->sock) ;
    q->sock = -1 ;
    errno = e ;
  }
  return code ;
}

/* queue-inject reads fd 0 to end of file before it reads fd 1: the
   message pipe is closed first, then the envelope, which fits a pipe,
   is written. A short write means queue-inject died; its exit code
   says why. */
int qinject_finish (qinject *q, char const *env, size_t envlen)
{
  int wstat ;
  if (q->sock >= 0) return writer_finish(q, env, envlen) ;
  if (q->msg >= 0) { fd_close(q->msg) ; q->msg = -1 ; }
  if (env) allwrite(q->env, env, envlen) ;
  fd_close(q->env) ;
  q->env = -1 ;
  if (wait_pid(q->pid, &wstat) < 0) return -1 ;
  return WIFEXITED(wstat) ? WEXITSTATUS(wstat) : 256 + WTERMSIG(wstat) ;
}
