#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "home.h"
#include "send.h"

/* The bounce program (bounce(8)) runs once per settled message with
   failures; send waits for it without blocking. */

struct bouncer
{
  pid_t pid ;
  int fd ;              /* its stdout; -1 at EOF */
  struct msg *m ;
  size_t len ;
  char text[TEXT_MAX] ;
} ;

static struct bouncer running[BOUNCE_MAX] ;
static unsigned int nrunning = 0 ;
static genalloc waiting = GENALLOC_ZERO ;   /* struct msg *, in order */

unsigned int send_bouncers_running (void)
{
  return nrunning ;
}

void send_bounce_want (struct msg *m)
{
  m->bouncing = 1 ;
  m->bounceat = 0 ;
  if (!genalloc_append(struct msg *, &waiting, &m)) strerr_diefu1sys(111, "allocate") ;
}

static int spawn (struct msg *m, struct bouncer *b)
{
  char prog[4096] ;
  char const *home = home_dir() ;
  size_t n = strlen(home) ;
  char const *argv[3] = { prog, m->id, 0 } ;
  int fd ;
  pid_t pid ;
  if (n + sizeof "/bin/bounce" > sizeof prog) return (errno = ENAMETOOLONG, 0) ;
  memcpy(prog, home, n) ;
  memcpy(prog + n, "/bin/bounce", sizeof "/bin/bounce") ;
  pid = child_spawn1_pipe(prog, argv, (char const *const *)environ, &fd, 1) ;
  if (!pid) return 0 ;
  if (ndelay_on(fd) < 0) strerr_diefu1sys(111, "set a pipe non-blocking") ;
  b->pid = pid ;
  b->fd = fd ;
  b->m = m ;
  b->len = 0 ;
  return 1 ;
}

void send_bounce_start_due (uint32_t now, int stopping)
{
  struct msg **w = genalloc_s(struct msg *, &waiting) ;
  size_t n = genalloc_len(struct msg *, &waiting), kept = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    struct msg *m = w[i] ;
    if (stopping || nrunning >= BOUNCE_MAX || m->bounceat > now) { w[kept++] = m ; continue ; }
    if (!spawn(m, running + nrunning))
    {
      strerr_warnwu2sys("spawn bounce for ", m->id) ;
      m->bounceat = now + BOUNCE_RETRY ;
      w[kept++] = m ;
      continue ;
    }
    send_log_start("bounce msg ") ; send_log_add(m->id) ;
    send_log_add(" qp ") ; send_log_addu((unsigned long)running[nrunning].pid) ;
    send_log_end() ;
    nrunning++ ;
  }
  genalloc_setlen(struct msg *, &waiting, kept) ;
}

uint32_t send_bounce_next (void)
{
  uint32_t t = 0 ;
  struct msg **w = genalloc_s(struct msg *, &waiting) ;
  for (size_t i = 0 ; i < genalloc_len(struct msg *, &waiting) ; i++)
    if (!t || w[i]->bounceat < t) t = w[i]->bounceat ? w[i]->bounceat : 1 ;
  return t ;
}

int send_bounce_fds (void *x, unsigned int max)
{
  iopause_fd *p = x ;
  unsigned int n = 0 ;
  for (unsigned int i = 0 ; i < nrunning && n < max ; i++)
    if (running[i].fd >= 0) p[n++] = (iopause_fd){ .fd = running[i].fd, .events = IOPAUSE_READ } ;
  return n ;
}

void send_bounce_read (int fd)
{
  for (unsigned int i = 0 ; i < nrunning ; i++)
  {
    struct bouncer *b = running + i ;
    char buf[512] ;
    ssize_t r ;
    if (b->fd != fd) continue ;
    for (;;)
    {
      r = read(fd, buf, sizeof buf) ;
      if (r < 0 && errno == EINTR) continue ;
      if (r < 0 && errno == EAGAIN) return ;
      if (r <= 0) { fd_close(fd) ; b->fd = -1 ; return ; }
      /* the rest past TEXT_MAX is read and dropped */
      for (ssize_t k = 0 ; k < r && b->len < TEXT_MAX ; k++)
        b->text[b->len++] = buf[k] == '\n' ? ' ' : buf[k] ;
    }
  }
}

void send_bounce_reap (pid_t pid, int wstat, uint32_t now)
{
  for (unsigned int i = 0 ; i < nrunning ; i++)
  {
    struct bouncer b = running[i] ;
    struct msg *m = b.m ;
    if (b.pid != pid) continue ;
    running[i] = running[--nrunning] ;
    if (b.fd >= 0)
    {
      /* what it wrote before exiting is still in the pipe */
      running[nrunning] = b ;
      send_bounce_read(b.fd) ;
      b = running[nrunning] ;
      if (b.fd >= 0) fd_close(b.fd) ;
    }
    while (b.len && b.text[b.len - 1] == ' ') b.len-- ;
    send_log_start("bounce msg ") ; send_log_add(m->id) ;
    send_log_add(WIFEXITED(wstat) && !WEXITSTATUS(wstat) ? ": done: " : ": deferral: ") ;
    send_log_addb(b.text, b.len) ;
    send_log_end() ;
    if (WIFEXITED(wstat) && !WEXITSTATUS(wstat))
    {
      m->bouncing = 0 ;
      for (unsigned int k = 0 ; k < m->nrcpts ; k++)
        if (m->rcpts[k].status == ST_FAILED)
        {
          m->rcpts[k].status = ST_BOUNCED ;
          m->failed-- ;
          send_msg_update(m, k, "", 0) ;
        }
      send_msg_check(m, now) ;
    }
    else
    {
      m->bounceat = now + BOUNCE_RETRY ;
      if (!genalloc_append(struct msg *, &waiting, &m)) strerr_diefu1sys(111, "allocate") ;
    }
    return ;
  }
}
