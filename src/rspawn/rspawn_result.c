/* A job's result: remote's record as it wrote it, once its output ends
   (remote closes it before its courtesy QUIT); if the record is not whole
   and well-formed, a temporary failure for every recipient once remote
   has exited. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>
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

static void put_id (char const *id)
{
  out.len = 0 ;
  put("J", 1) ;
  put(id, strlen(id) + 1) ;
}


/* n fields of a letter K, Z or D and a text, then the empty field */
static int well_formed (stralloc const *r, unsigned int n)
{
  size_t pos = 0 ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    char const *f = r->s + pos ;
    size_t len ;
    if (pos >= r->len) return 0 ;
    len = strnlen(f, r->len - pos) ;
    if (pos + len >= r->len || len < 2 || len > 1 + RSPAWN_TEXT_MAX || (f[0] != 'K' && f[0] != 'Z' && f[0] != 'D')) return 0 ;
    pos += len + 1 ;
  }
  return pos + 1 == r->len && !r->s[pos] ;
}

static void finish (unsigned int j)
{
  rspawn_job *job = rspawn_jobs + j ;
  if (!job->reported)
  {
    if (well_formed(&job->out, job->n))
    {
      put_id(job->id) ;
      put(job->out.s, job->out.len - 1) ;
      spawner_put(out.s, out.len) ;
      job->reported = 1 ;
    }
    else if (!job->pid)
    {
      char fmt[UINT_FMT] ;
      char text[64] ;
      size_t m = 0 ;
      int sig = WIFSIGNALED(job->wstat) ;
      fmt[uint_fmt(fmt, sig ? WTERMSIG(job->wstat) : WEXITSTATUS(job->wstat))] = 0 ;
      memcpy(text + m, "4.3.0 remote ", 13) ; m += 13 ;
      if (sig) { memcpy(text + m, "killed by signal ", 17) ; m += 17 ; }
      else { memcpy(text + m, "exited ", 7) ; m += 7 ; }
      memcpy(text + m, fmt, strlen(fmt)) ; m += strlen(fmt) ;
      memcpy(text + m, " without results", 17) ;
      spawner_reply_all(job->id, job->n, text) ;
      job->reported = 1 ;
    }
  }
  /* once reported the slot is free: a remote still saying QUIT (see
     remote(8)) is reaped later without one */
  if (job->reported) rspawn_job_free(j) ;
}

void rspawn_read (unsigned int j)
{
  rspawn_job *job = rspawn_jobs + j ;
  for (;;)
  {
    char buf[8192] ;
    ssize_t r = read(job->fd, buf, sizeof buf) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == EAGAIN) return ;
      strerr_warnwu1sys("read remote's output") ;
      r = 0 ;
    }
    if (!r)
    {
      fd_close(job->fd) ;
      job->fd = -1 ;
      finish(j) ;
      return ;
    }
    /* past the largest record it is malformed anyway: keep one byte
       more than the limit so it cannot pass for well-formed */
    if (job->out.len <= RSPAWN_OUT_MAX)
    {
      size_t keep = (size_t)r ;
      if (job->out.len + keep > RSPAWN_OUT_MAX + 1) keep = RSPAWN_OUT_MAX + 1 - job->out.len ;
      if (!stralloc_catb(&job->out, buf, keep)) strerr_diefu1sys(111, "allocate") ;
    }
  }
}

void rspawn_reaped (unsigned int j, int wstat)
{
  rspawn_job *job = rspawn_jobs + j ;
  job->pid = 0 ;
  job->wstat = wstat ;
  /* its output may still be in the pipe: EOF on it finishes the job */
  if (job->fd < 0) finish(j) ;
}
