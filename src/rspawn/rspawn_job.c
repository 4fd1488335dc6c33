/* A job from send: check it, open the body, start remote. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/bytestr.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "frame.h"
#include "queue.h"
#include "rspawn.h"
#include "spawner.h"

extern char **environ ;

static stralloc prog = STRALLOC_ZERO ;
static unsigned int freeslots[RSPAWN_SLOTS] ;
static unsigned int nfree = 0 ;
static int slots_ready = 0 ;

void rspawn_spawn_init (char const *home)
{
  if (!stralloc_cats(&prog, home) || !stralloc_cats(&prog, "/bin/remote") || !stralloc_0(&prog))
    strerr_diefu1sys(111, "allocate") ;
}

typedef struct job_view_s job_view ;
struct job_view_s
{
  spawner_job j ;
  char domain[ADDR_MAX + 1] ;
} ;

/* the text for every recipient, or 0 if the job is well-formed; the
   first fault in the record's order wins, so a domain fault before a
   malformed field is the one told */
static char const *parse (job_view *v, char const *s, size_t len)
{
  enum spawner_parse_e e = spawner_parse(&v->j, s, len, 0) ;
  size_t dlen = 0 ;
  for (unsigned int i = 0 ; i < v->j.n ; i++)
  {
    char const *at = strrchr(v->j.addr[i], '@') ;
    size_t l = at ? strlen(at + 1) : 0 ;
    if (!l) return "4.3.0 rspawn: recipient without a domain" ;
    if (!i) { memcpy(v->domain, at + 1, l + 1) ; dlen = l ; case_lowerb(v->domain, l) ; }
    else if (l != dlen || strncasecmp(at + 1, v->domain, l)) return "4.3.0 rspawn: recipients at more than one domain" ;
  }
  if (e == SPAWNER_TOOMANY) return "4.3.0 rspawn: more than 100 recipients in one job" ;
  if (e || !v->j.n) return "4.3.0 rspawn: malformed job" ;
  return 0 ;
}

/* remote with the body on fd 0 and the pipe on fd 1; the signal set-up
   rspawn runs with (SIGCHLD blocked, SIGPIPE ignored) reset */
static pid_t spawn (job_view const *v, int body, int w)
{
  char const *argv[3 + RSPAWN_RCPT_MAX + 1] ;
  posix_spawn_file_actions_t fa ;
  posix_spawnattr_t attr ;
  sigset_t none, dfl ;
  pid_t pid ;
  int e ;
  argv[0] = prog.s ;
  argv[1] = v->domain ;
  argv[2] = v->j.sender ;
  for (unsigned int i = 0 ; i < v->j.n ; i++) argv[3 + i] = v->j.addr[i] ;
  argv[3 + v->j.n] = 0 ;
  sigemptyset(&none) ;
  sigemptyset(&dfl) ;
  sigaddset(&dfl, SIGPIPE) ;
  sigaddset(&dfl, SIGCHLD) ;
  if ((e = posix_spawn_file_actions_init(&fa))) return (errno = e, -1) ;
  if ((e = posix_spawnattr_init(&attr))) { posix_spawn_file_actions_destroy(&fa) ; return (errno = e, -1) ; }
  if (!(e = posix_spawn_file_actions_adddup2(&fa, body, 0))
   && !(e = posix_spawn_file_actions_adddup2(&fa, w, 1))
   && !(e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
   && !(e = posix_spawnattr_setsigmask(&attr, &none))
   && !(e = posix_spawnattr_setsigdefault(&attr, &dfl)))
    e = posix_spawn(&pid, prog.s, &fa, &attr, (char *const *)argv, environ) ;
  posix_spawnattr_destroy(&attr) ;
  posix_spawn_file_actions_destroy(&fa) ;
  return e ? (errno = e, -1) : pid ;
}

void rspawn_job_start (char const *s, size_t len)
{
  job_view v ;
  char const *err = parse(&v, s, len) ;
  char path[QUEUE_PATH_MAX] ;
  rspawn_job *job ;
  unsigned int j ;
  int body, p[2] ;
  if (!slots_ready)
  {
    for (unsigned int i = 0 ; i < RSPAWN_SLOTS ; i++) freeslots[i] = RSPAWN_SLOTS - 1 - i ;
    nfree = RSPAWN_SLOTS ;
    slots_ready = 1 ;
  }
  if (err)
  {
    strerr_warnw3x("job ", v.j.id, ": refused, malformed") ;
    spawner_reply_all(v.j.id, v.j.nt, err) ;
    return ;
  }
  if (!nfree) { spawner_reply_all(v.j.id, v.j.nt, "4.3.0 rspawn busy") ; return ; }
  queue_path(path, QUEUE_BODY, v.j.msgid) ;
  body = open(path, O_RDONLY | O_CLOEXEC) ;
  if (body < 0)
  {
    strerr_warnwu2sys("open ", path) ;
    spawner_reply_all(v.j.id, v.j.nt, "4.3.0 rspawn: unable to open the message") ;
    return ;
  }
  if (pipecoe(p) < 0)
  {
    fd_close(body) ;
    spawner_reply_all(v.j.id, v.j.nt, "4.3.0 rspawn: unable to create a pipe") ;
    return ;
  }
  j = freeslots[--nfree] ;
  job = rspawn_jobs + j ;
  job->pid = spawn(&v, body, p[1]) ;
  fd_close(body) ;
  fd_close(p[1]) ;
  if (job->pid < 0)
  {
    strerr_warnwu2sys("spawn ", prog.s) ;
    fd_close(p[0]) ;
    freeslots[nfree++] = j ;
    job->pid = 0 ;
    spawner_reply_all(v.j.id, v.j.nt, "4.3.0 rspawn: unable to start remote") ;
    return ;
  }
  if (ndelay_on(p[0]) < 0) strerr_diefu1sys(111, "make a pipe non-blocking") ;
  job->fd = p[0] ;
  job->n = v.j.nt ;
  job->reported = 0 ;
  job->wstat = 0 ;
  job->out.len = 0 ;
  memcpy(job->id, v.j.id, strlen(v.j.id) + 1) ;
  rspawn_active++ ;
}

void rspawn_job_free (unsigned int j)
{
  rspawn_jobs[j].n = 0 ;
  freeslots[nfree++] = j ;
  rspawn_active-- ;
}
