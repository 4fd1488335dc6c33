/* queue-inject: the only way a message enters the queue (qmail-queue's
   contract). Runs setuid to the queue owner. Reads the message on fd 0,
   then the envelope on fd 1; writes queue/body and queue/intake, then
   renames the envelope into queue/todo and pokes queue/trigger.
   Exit 0 only when the message is durable; codes in queue-inject(8). */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "date822.h"
#include "envelope.h"
#include "fsx.h"
#include "home.h"
#include "qexit.h"
#include "queue.h"

/* a queue-inject that has not finished in a day is stuck on a dead
   client; clean removes leftovers older than that */
#define LIFETIME 86400
/* control/databytes absent: Postfix's default message_size_limit */
#define DATABYTES_DEFAULT 10240000
/* ids are made from the clock; give up if the body name keeps existing */
#define ID_TRIES 100
#define COPY_BUF 65536

static char id[QUEUE_ID_MAX + 1] ;
static char bodypath[QUEUE_PATH_MAX] ;
static char intakepath[QUEUE_PATH_MAX] ;
static int havebody = 0, haveintake = 0 ;

/* Before the rename nothing is visible to send: remove what we made.
   After it, the message belongs to send and is never touched. */
static void cleanup (void)
{
  if (haveintake) unlink(intakepath) ;
  if (havebody) unlink(bodypath) ;
}

static void die (int code, char const *what)
{
  int e = errno ;
  cleanup() ;
  errno = e ;
  if (what) strerr_warnwu1sys(what) ;
  else strerr_warnw1x(qexit_lookup(code)->text) ;
  _exit(code) ;
}

static void die_timeout (int sig)
{
  (void)sig ;
  cleanup() ;
  _exit(QX_TIMEOUT) ;
}

static char buf[COPY_BUF] ;

static int make_body (void)
{
  for (unsigned int i = 0 ; i < ID_TRIES ; i++)
  {
    int fd ;
    queue_id_make(id) ;
    queue_path(bodypath, QUEUE_BODY, id) ;
    fd = open(bodypath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640) ;
    if (fd >= 0) { havebody = 1 ; return fd ; }
    if (errno != EEXIST) die(QX_BODY, "create body") ;
  }
  errno = EEXIST ;
  die(QX_BODY, "find a free message id") ;
  return -1 ;
}

static size_t received (char *s, uid_t uid)
{
  size_t n = 0 ;
  memcpy(s, "Received: (postern ", 19) ; n = 19 ;
  n += pid_fmt(s + n, getpid()) ;
  memcpy(s + n, " invoked by uid ", 16) ; n += 16 ;
  n += uid_fmt(s + n, uid) ;
  memcpy(s + n, "); ", 3) ; n += 3 ;
  n += date822_fmt(s + n, time(0)) ;
  s[n++] = '\n' ;
  return n ;
}

/* Copies fd 0 after our Received line; counts only the client's bytes
   against databytes (0: no limit). */
static void copy_message (int fd, unsigned long databytes, uid_t uid)
{
  size_t len = received(buf, uid) ;
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
      if (allwrite(fd, buf, len) < len) die(QX_WRITE, "write body") ;
      len = 0 ;
    }
    if (!r) break ;
  }
  /* the body must be on disk before its envelope can name it */
  if (fsync(fd) < 0) die(QX_WRITE, "fsync body") ;
  fd_close(fd) ;
}

static int const env_exit[] =
{
  [ENV_OK] = QX_OK, [ENV_EFORMAT] = QX_ENVFORMAT, [ENV_EINCOMPLETE] = QX_ENVFORMAT,
  [ENV_EADDRLONG] = QX_ADDRLONG, [ENV_EADDRBAD] = QX_ADDRBAD,
  [ENV_ETOOMANY] = QX_TOOMANY, [ENV_ENORCPT] = QX_NORCPT, [ENV_ETOOLONG] = QX_ENVLONG
} ;

/* Reads the envelope on fd 1, checking it as it comes (bounded by
   ENV_BYTES_MAX), after the info fields already in sa. */
static void read_envelope (stralloc *sa)
{
  env_check c = ENV_CHECK_ZERO ;
  char in[4096] ;
  enum env_error e ;
  while (!c.done && c.error == ENV_OK)
  {
    ssize_t r = read(1, in, sizeof in) ;
    size_t used ;
    if (r < 0) { if (errno == EINTR) continue ; die(QX_READ, "read envelope") ; }
    if (!r) break ;
    used = env_check_feed(&c, in, (size_t)r) ;
    if (!stralloc_catb(sa, in, used)) die(QX_NOMEM, "allocate") ;
  }
  e = env_check_end(&c) ;
  if (e != ENV_OK) { errno = 0 ; die(env_exit[e], 0) ; }
}

static void write_intake (stralloc const *sa)
{
  int fd ;
  queue_path(intakepath, QUEUE_INTAKE, id) ;
  /* the id is ours (its body was made O_EXCL): a same-named intake file
     can only be a crashed run's leftover */
  fd = open(intakepath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640) ;
  if (fd < 0) die(QX_INTAKE, "create intake file") ;
  haveintake = 1 ;
  if (allwrite(fd, sa->s, sa->len) < sa->len) die(QX_WRITE, "write intake file") ;
  if (fsync(fd) < 0) die(QX_WRITE, "fsync intake file") ;
  fd_close(fd) ;
}

static void publish (void)
{
  char dir[QUEUE_PATH_MAX] ;
  char todopath[QUEUE_PATH_MAX] ;
  /* the body's directory entry must survive a crash before the envelope
     that names it becomes visible */
  queue_subdir(dir, QUEUE_BODY, id) ;
  if (fsx_syncdir(dir) < 0) die(QX_BODY, "fsync body directory") ;
  queue_path(todopath, QUEUE_TODO, id) ;
  if (fsx_rename(intakepath, todopath) < 0) die(QX_TODO, "rename into todo") ;
  haveintake = 0 ;
  havebody = 0 ;  /* visible: send owns it now, even if what follows fails */
  /* 0 means durable: the todo entry must be on disk before we say so */
  queue_subdir(dir, QUEUE_TODO, id) ;
  if (fsx_syncdir(dir) < 0)
  {
    strerr_warnwu1sys("fsync todo directory") ;
    _exit(QX_TODO) ;
  }
  queue_trigger_poke() ;
}

int main (void)
{
  stralloc env = STRALLOC_ZERO ;
  unsigned long databytes ;
  uid_t uid = getuid() ;
  int fd ;
  PROG = "queue-inject" ;
  umask(027) ;
  if (!sig_catch(SIGALRM, &die_timeout) || !sig_ignore(SIGPIPE))
    die(QX_BUG, "set signal handlers") ;
  alarm(LIFETIME) ;
  if (home_chdir() < 0) die(QX_HOME, "chdir to home") ;
  if (control_readuint(&databytes, "databytes", DATABYTES_DEFAULT) < 0)
    die(QX_CONTROL, "read control/databytes") ;
  fd = make_body() ;
  copy_message(fd, databytes, uid) ;
  {
    char field[UINT64_FMT + 1] ;
    field[0] = 'u' ;
    if (!stralloc_catb(&env, field, 1 + uid_fmt(field + 1, uid)) || !stralloc_0(&env))
      die(QX_NOMEM, "allocate") ;
    field[0] = 'p' ;
    if (!stralloc_catb(&env, field, 1 + pid_fmt(field + 1, getpid())) || !stralloc_0(&env))
      die(QX_NOMEM, "allocate") ;
  }
  read_envelope(&env) ;
  write_intake(&env) ;
  publish() ;
  return 0 ;
}
