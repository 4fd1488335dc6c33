/* A job's result: remote's answer, one message on its socket, the
   record as it wrote it after a byte that says whether it keeps its
   connection (I) or ends (E). An answer that is not whole and
   well-formed lets the remote go; its job, and that of a remote whose
   socket ends before it answers, gets a temporary failure for every
   recipient once it has exited. */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "rspawn.h"
#include "spawner.h"

static stralloc out = STRALLOC_ZERO ;

static void put (char const *s, size_t len)
{
  if (!stralloc_catb(&out, s, len)) strerr_diefu1sys(111, "allocate") ;
}

/* n fields of a letter K, Z or D and a text, then the empty field */
static int well_formed (char const *s, size_t len, unsigned int n)
{
  size_t pos = 0 ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    char const *f = s + pos ;
    size_t l ;
    if (pos >= len) return 0 ;
    l = strnlen(f, len - pos) ;
    if (pos + l >= len || l < 2 || l > 1 + RSPAWN_TEXT_MAX || (f[0] != 'K' && f[0] != 'Z' && f[0] != 'D')) return 0 ;
    pos += l + 1 ;
  }
  return pos + 1 == len && !s[pos] ;
}

static void done (unsigned int i)
{
  rspawn_jobs[i].n = 0 ;
  rspawn_active-- ;
}

/* the remote's socket ended, or it broke the protocol: it is let go; a
   job it holds is answered once it is reaped */
static void ended (unsigned int i)
{
  if (rspawn_jobs[i].n) wpool_retire(&rspawn_pool, i) ;
  else rspawn_drop(i) ;
}

void rspawn_read (unsigned int i)
{
  static char buf[RSPAWN_OUT_MAX + 2] ;
  while (rspawn_pool.w[i].pid && rspawn_pool.w[i].fd >= 0)
  {
    rspawn_job *job = rspawn_jobs + i ;
    ssize_t r = recv(rspawn_pool.w[i].fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ;
      strerr_warnwu1sys("read remote's answer") ;
      r = 0 ;
    }
    if (!r) { ended(i) ; return ; }
    if (!job->n || (size_t)r > sizeof buf || (buf[0] != 'I' && buf[0] != 'E') || !well_formed(buf + 1, r - 1, job->n))
    {
      strerr_warnw1x("remote answered out of protocol: letting it go") ;
      ended(i) ;
      return ;
    }
    out.len = 0 ;
    put("J", 1) ;
    put(job->id, strlen(job->id) + 1) ;
    put(buf + 1, r - 2) ;
    spawner_put(out.s, out.len) ;
    done(i) ;
    wpool_done(&rspawn_pool, i) ;
    if (buf[0] != 'I' || rspawn_pool.w[i].fd < 0 || !rspawn_idle_keep(i)) rspawn_drop(i) ;
  }
}

void rspawn_reaped (pid_t pid, int wstat)
{
  int i = wpool_find(&rspawn_pool, pid) ;
  if (rspawn_children) rspawn_children-- ;
  if (i < 0) return ;
  /* what it wrote before it died still counts */
  rspawn_read((unsigned int)i) ;
  if (rspawn_pool.w[i].pid == pid && rspawn_jobs[i].n)
  {
    char fmt[UINT_FMT] ;
    char text[64] ;
    size_t m = 0 ;
    int sig = WIFSIGNALED(wstat) ;
    fmt[uint_fmt(fmt, sig ? WTERMSIG(wstat) : WEXITSTATUS(wstat))] = 0 ;
    memcpy(text + m, "4.3.0 remote ", 13) ; m += 13 ;
    if (sig) { memcpy(text + m, "killed by signal ", 17) ; m += 17 ; }
    else { memcpy(text + m, "exited ", 7) ; m += 7 ; }
    memcpy(text + m, fmt, strlen(fmt)) ; m += strlen(fmt) ;
    memcpy(text + m, " without results", 17) ;
    spawner_reply_all(rspawn_jobs[i].id, rspawn_jobs[i].n, text) ;
    done((unsigned int)i) ;
  }
  if (rspawn_pool.w[i].pid == pid) wpool_free(&rspawn_pool, (unsigned int)i) ;
}
