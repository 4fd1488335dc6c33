/* A job from send: check it, open the body, hand it to the idle remote
   kept for its domain, or to a new one. */

#include <errno.h>
#include <fcntl.h>
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

/* FNV-1a: a quick first test before the names are compared */
static uint64_t key (char const *s)
{
  uint64_t h = 14695981039346656037ULL ;
  for (; *s ; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL ;
  return h ;
}

/* the idle remote for domain with uses and time left, the one idle the
   shortest (its connection the likeliest alive); -1 if none */
static int pick (char const *domain, uint64_t h)
{
  int best = -1 ;
  tain oldest ;
  tain_addsec(&oldest, &STAMP, -(int)rspawn_reusetime) ;
  for (unsigned int i = 0 ; i < RSPAWN_PROCS ; i++)
  {
    wpool_worker const *w = rspawn_pool.w + i ;
    if (!w->pid || w->fd < 0 || w->busy || w->key != h || w->served >= rspawn_reuse
     || !tain_less(&oldest, &rspawn_jobs[i].born) || strcmp(rspawn_jobs[i].domain, domain)) continue ;
    if (best < 0 || tain_less(&rspawn_pool.w[best].idle, &w->idle)) best = (int)i ;
  }
  return best ;
}

/* a new remote -w for domain; -1 with errno */
static int start (char const *domain, uint64_t h)
{
  char const *argv[3] = { "remote", "-w", 0 } ;
  wpool_prog const p = { .path = prog.s, .argv = argv, .envp = (char const *const *)environ, .child = 0, .data = 0 } ;
  int i = wpool_spawn(&rspawn_pool, h, &p) ;
  if (i < 0 && errno == EBUSY)
  {
    /* every slot taken: the idle remote kept the longest makes room */
    int j = wpool_oldest(&rspawn_pool) ;
    if (j < 0) return (errno = EBUSY, -1) ;
    rspawn_drop((unsigned int)j) ;
    i = wpool_spawn(&rspawn_pool, h, &p) ;
  }
  if (i < 0) return -1 ;
  rspawn_children++ ;
  memcpy(rspawn_jobs[i].domain, domain, strlen(domain) + 1) ;
  rspawn_jobs[i].born = STAMP ;
  rspawn_jobs[i].n = 0 ;
  return i ;
}

/* the job as remote -w reads it: domain, sender, recipients */
static int message (stralloc *m, job_view const *v)
{
  m->len = 0 ;
  if (!stralloc_catb(m, v->domain, strlen(v->domain) + 1) || !stralloc_catb(m, v->j.sender, strlen(v->j.sender) + 1)) return 0 ;
  for (unsigned int i = 0 ; i < v->j.n ; i++)
    if (!stralloc_catb(m, v->j.addr[i], strlen(v->j.addr[i]) + 1)) return 0 ;
  return 1 ;
}

void rspawn_job_start (char const *s, size_t len)
{
  static stralloc m = STRALLOC_ZERO ;
  job_view v ;
  char const *err = parse(&v, s, len) ;
  char path[QUEUE_PATH_MAX] ;
  uint64_t h ;
  int i, body ;
  if (err)
  {
    strerr_warnw3x("job ", v.j.id, ": refused, malformed") ;
    spawner_reply_all(v.j.id, v.j.nt, err) ;
    return ;
  }
  if (rspawn_active >= RSPAWN_SLOTS) { spawner_reply_all(v.j.id, v.j.nt, "4.3.0 rspawn busy") ; return ; }
  if (!message(&m, &v)) strerr_diefu1sys(111, "allocate") ;
  queue_path(path, QUEUE_BODY, v.j.msgid) ;
  body = open(path, O_RDONLY | O_CLOEXEC) ;
  if (body < 0)
  {
    strerr_warnwu2sys("open ", path) ;
    spawner_reply_all(v.j.id, v.j.nt, "4.3.0 rspawn: unable to open the message") ;
    return ;
  }
  tain_now_g() ;
  h = key(v.domain) ;
  i = pick(v.domain, h) ;
  /* a kept remote that cannot take it (it just died) is let go */
  if (i >= 0 && !wpool_sendfd(rspawn_pool.w[i].fd, body, m.s, m.len)) { rspawn_drop((unsigned int)i) ; i = -1 ; }
  if (i < 0)
  {
    i = start(v.domain, h) ;
    if (i < 0)
    {
      strerr_warnwu2sys("spawn ", prog.s) ;
      fd_close(body) ;
      spawner_reply_all(v.j.id, v.j.nt, "4.3.0 rspawn: unable to start remote") ;
      return ;
    }
    if (!wpool_sendfd(rspawn_pool.w[i].fd, body, m.s, m.len))
    {
      strerr_warnwu1sys("hand a job to remote") ;
      rspawn_drop((unsigned int)i) ;
      fd_close(body) ;
      spawner_reply_all(v.j.id, v.j.nt, "4.3.0 rspawn: unable to start remote") ;
      return ;
    }
  }
  fd_close(body) ;
  wpool_give(&rspawn_pool, (unsigned int)i) ;
  rspawn_jobs[i].n = v.j.nt ;
  memcpy(rspawn_jobs[i].id, v.j.id, strlen(v.j.id) + 1) ;
  rspawn_active++ ;
}

void rspawn_drop (unsigned int i)
{
  wpool_free(&rspawn_pool, i) ;
}
