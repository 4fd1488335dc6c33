/* queue-inject: the one-shot way into the queue (qmail-queue's
   contract). Runs setuid to the queue owner. Reads the message on fd 0,
   then the envelope on fd 1; writes queue/body and queue/intake, then
   renames the envelope into queue/todo and pokes queue/trigger.
   Exit 0 only when the message is durable; codes in queue-inject(8). */

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include "control.h"
#include "envelope.h"
#include "home.h"
#include "qexit.h"
#include "qwrite.h"

/* a queue-inject that has not finished in a day is stuck on a dead
   client; clean removes leftovers older than that */
#define LIFETIME 86400
#define COPY_BUF 65536

static qwrite_msg m = QWRITE_MSG_ZERO ;

static void die (int code, char const *what)
{
  int e = errno ;
  qwrite_abort(&m) ;
  errno = e ;
  if (what) strerr_warnwu1sys(what) ;
  else strerr_warnw1x(qexit_lookup(code)->text) ;
  _exit(code) ;
}

static void die_timeout (int sig)
{
  (void)sig ;
  qwrite_abort(&m) ;
  _exit(QX_TIMEOUT) ;
}

static char buf[COPY_BUF] ;

/* Copies fd 0 after our Received line; counts only the client's bytes
   against databytes (0: no limit). */
static void copy_message (unsigned long databytes, uid_t uid)
{
  size_t len = qwrite_received(buf, getpid(), uid) ;
  unsigned long total = 0 ;
  for (;;)
  {
    ssize_t r = read(0, buf + len, sizeof buf - len) ;
    if (r < 0) { if (errno == EINTR) continue ; die(QX_READ, "read message") ; }
    total += (unsigned long)r ;
    if (databytes && total > databytes) { errno = 0 ; die(QX_TOOBIG, 0) ; }
    len += (size_t)r ;
    if (!r || len == sizeof buf)
    {
      if (allwrite(m.body, buf, len) < len) die(QX_WRITE, "write body") ;
      len = 0 ;
    }
    if (!r) break ;
  }
}

/* Reads the envelope on fd 1, checking it as it comes (bounded by
   ENV_BYTES_MAX), after the info fields already in sa. */
static void read_envelope (stralloc *sa)
{
  env_check c = ENV_CHECK_ZERO ;
  size_t got = 0 ;
  char in[4096] ;
  enum env_error e ;
  while (!c.done && c.error == ENV_OK)
  {
    ssize_t r = read(1, in, sizeof in) ;
    size_t used ;
    if (r < 0) { if (errno == EINTR) continue ; die(QX_READ, "read envelope") ; }
    if (!r) break ;
    got += (size_t)r ;
    used = env_check_feed(&c, in, (size_t)r) ;
    if (!stralloc_catb(sa, in, used)) die(QX_NOMEM, "allocate") ;
  }
  e = env_check_end(&c) ;
  /* no envelope at all: the caller abandoned the message (qinject.h),
     which is no error of ours to report */
  if (e != ENV_OK && !got)
  {
    qwrite_abort(&m) ;
    _exit(QX_ENVFORMAT) ;
  }
  if (e != ENV_OK) { errno = 0 ; die(qwrite_env_code(e), 0) ; }
}

int main (void)
{
  stralloc env = STRALLOC_ZERO ;
  unsigned long databytes ;
  uid_t uid = getuid() ;
  PROG = "queue-inject" ;
  umask(027) ;
  if (!sig_catch(SIGALRM, &die_timeout) || !sig_ignore(SIGPIPE))
    die(QX_BUG, "set signal handlers") ;
  alarm(LIFETIME) ;
  if (home_chdir() < 0) die(QX_HOME, "chdir to home") ;
  if (control_readuint(&databytes, "databytes", QWRITE_DATABYTES_DEFAULT) < 0)
    die(QX_CONTROL, "read control/databytes") ;
  if (queue_roots_load() < 0) die(QX_CONTROL, "read " QUEUE_ROOTS_FILE) ;
  {
    /* round robin over the roots by pid: successive injections spread */
    unsigned int cursor = (unsigned int)getpid() ;
    if (!qwrite_body(&m, -1, &cursor, qwrite_room(databytes)))
      die(m.code, errno == EEXIST ? "find a free message id" : "create body in any queue root") ;
  }
  copy_message(databytes, uid) ;
  if (!qwrite_info(&env, uid, getpid())) die(QX_NOMEM, "allocate") ;
  read_envelope(&env) ;
  if (!qwrite_intake(&m, env.s, env.len))
    die(m.code, m.code == QX_WRITE ? "write intake file" : "create intake file") ;
  /* one message: its group commit is the steps of queue-inject(8) */
  qwrite_commit(&m, 1, 1) ;
  if (m.code) die(m.code, 0) ;
  return 0 ;
}
