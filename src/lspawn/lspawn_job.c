/* A job from send: check it, give it slots, and for each recipient
   resolve the local name and start local, or say at once why not. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/bytestr.h>
#include <skalibs/strerr.h>
#include "frame.h"
#include "queue.h"
#include "resolve.h"
#include "lspawn.h"
#include "spawner.h"

typedef spawner_job job_view ;

static unsigned short freejobs[LSPAWN_SLOTS] ;
static unsigned short freercpts[LSPAWN_SLOTS] ;
static unsigned int nfreejobs, nfreercpts ;
static int slots_ready = 0 ;

static resolve_dest dest = RESOLVE_DEST_ZERO ;
static resolve_dest alias = RESOLVE_DEST_ZERO ;

/* Returns 0 if well-formed, else the text every recipient gets. */
static char const *parse (job_view *v, char const *s, size_t len)
{
  switch (spawner_parse(v, s, len, 1))
  {
    case SPAWNER_OK : return 0 ;
    case SPAWNER_TOOMANY : return "4.3.0 lspawn: more than 100 recipients in one job" ;
    default : return "4.3.0 lspawn: malformed job" ;
  }
}

static void start (unsigned int r, job_view const *v, unsigned int i)
{
  lspawn_delivery d ;
  char domain[ADDR_MAX + 1] ;
  char const *at = strrchr(v->addr[i], '@') ;
  struct stat st ;
  int x = resolve_local(&dest, v->local[i], strlen(v->local[i])) ;
  if (x < 0) { lspawn_final(r, 'Z', "4.3.0 unable to look up ", v->local[i], strerror(errno)) ; return ; }
  if (!x) { lspawn_final(r, 'D', "5.1.1 no such user: ", v->local[i], 0) ; return ; }
  d.ext = "" ;
  d.addrs = 0 ;
  if (dest.kind == RESOLVE_ALIAS)
  {
    /* aliases of aliases are followed here, each address kept once: a
       ring of aliases is one bounce, not a storm of forwarded copies */
    x = resolve_expand(&dest, v->local[i], strlen(v->local[i])) ;
    if (x == -1) { lspawn_final(r, 'Z', "4.3.0 unable to expand alias ", v->local[i], strerror(errno)) ; return ; }
    if (x == RESOLVE_EXPAND_TOOMANY) { lspawn_final(r, 'D', "5.4.6 alias expands to more than 256 addresses: ", v->local[i], 0) ; return ; }
    if (x == RESOLVE_EXPAND_TOODEEP) { lspawn_final(r, 'D', "5.4.6 aliases nested more than 10 deep: ", v->local[i], 0) ; return ; }
    if (!x) { lspawn_final(r, 'D', "5.4.6 alias loop: ", v->local[i], "its aliases lead only back to each other") ; return ; }
    /* aliases run as the alias account in the home's alias/ directory
       (made by the install), qmail's ~alias; not root: as ourselves */
    if (lspawn_root)
    {
      x = resolve_passwd(&alias, lspawn_alias_user) ;
      if (x <= 0)
      {
        lspawn_final(r, 'Z', "4.3.0 unable to find the alias account ", lspawn_alias_user, x ? strerror(errno) : 0) ;
        return ;
      }
      d.uid = alias.uid ; d.gid = alias.gid ;
    }
    else { d.uid = getuid() ; d.gid = getgid() ; }
    d.addrs = resolve_str(&dest, addrs) ;
    d.user = lspawn_alias_user ;
    d.home = lspawn_alias_home ;
  }
  else
  {
    d.uid = dest.uid ; d.gid = dest.gid ;
    d.user = resolve_str(&dest, account) ;
    d.home = resolve_str(&dest, home) ;
    d.ext = resolve_str(&dest, ext) ;
  }
  if (!d.uid) { lspawn_final(r, 'Z', "4.3.0 refusing to deliver as root: alias it", 0, 0) ; return ; }
  if (stat(d.home, &st) < 0)
  {
    if (errno == ENOENT || errno == ENOTDIR) lspawn_final(r, 'Z', "4.3.0 home directory missing", 0, 0) ;
    else lspawn_final(r, 'Z', "4.3.0 unable to stat the home directory ", d.home, strerror(errno)) ;
    return ;
  }
  if (!S_ISDIR(st.st_mode)) { lspawn_final(r, 'Z', "4.3.0 home directory missing", 0, 0) ; return ; }
  {
    size_t dl = at ? strlen(at + 1) : 0 ;
    if (dl) memcpy(domain, at + 1, dl) ;
    domain[dl] = 0 ;
    case_lowerb(domain, dl) ;
  }
  d.domain = domain ;
  d.localname = v->local[i] ;
  d.sender = v->sender ;
  d.recipient = v->addr[i] ;
  d.msgid = v->msgid ;
  /* aliases forward as the alias account: one-shot, as before */
  if (!d.addrs && lspawn_worker_give(r, &d)) return ;
  lspawn_spawn(r, &d) ;
}

void lspawn_job_start (char const *s, size_t len)
{
  job_view v ;
  char const *err = parse(&v, s, len) ;
  lspawn_job *job ;
  unsigned int j ;
  if (!slots_ready)
  {
    for (unsigned int i = 0 ; i < LSPAWN_SLOTS ; i++)
      freejobs[i] = freercpts[i] = (unsigned short)(LSPAWN_SLOTS - 1 - i) ;
    nfreejobs = nfreercpts = LSPAWN_SLOTS ;
    slots_ready = 1 ;
  }
  if (err)
  {
    strerr_warnw3x("job ", v.id, ": refused, malformed") ;
    spawner_reply_all(v.id, v.nt, err) ;
    return ;
  }
  if (!v.n) { strerr_warnw3x("job ", v.id, ": no recipient") ; spawner_reply_all(v.id, 0, 0) ; return ; }
  if (!nfreejobs || nfreercpts < v.n) { spawner_reply_all(v.id, v.n, "4.3.0 lspawn busy") ; return ; }
  j = freejobs[--nfreejobs] ;
  job = lspawn_jobs + j ;
  memcpy(job->id, v.id, strlen(v.id) + 1) ;
  job->n = job->pending = v.n ;
  lspawn_jobs_active++ ;
  for (unsigned int i = 0 ; i < v.n ; i++)
  {
    unsigned int r = freercpts[--nfreercpts] ;
    job->rcpt[i] = (unsigned short)r ;
    lspawn_rcpts[r].job = j ;
    lspawn_rcpts[r].status = 0 ;
    lspawn_rcpts[r].len = 0 ;
    lspawn_rcpts[r].pid = 0 ;
    lspawn_rcpts[r].fd = -1 ;
    lspawn_rcpts[r].worker = -1 ;
  }
  for (unsigned int i = 0 ; i < v.n ; i++) start(job->rcpt[i], &v, i) ;
}

void lspawn_job_free (unsigned int j)
{
  lspawn_job *job = lspawn_jobs + j ;
  for (unsigned int i = 0 ; i < job->n ; i++) freercpts[nfreercpts++] = job->rcpt[i] ;
  job->n = 0 ;
  freejobs[nfreejobs++] = (unsigned short)j ;
  lspawn_jobs_active-- ;
}
