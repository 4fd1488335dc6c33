/* bounce: queues the failure notice (RFC 3464 DSN) of one message whose
   recipients with status F have failed for good. Runs as the send
   account, started by send once per such message. Reads queue/state/N/ID
   and the headers of queue/body/N/ID; writes nothing itself: the notice
   goes through bin/queue-inject. Prints one line on fd 1, errors on fd 2. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "bounce.h"
#include "control.h"
#include "envelope.h"
#include "home.h"
#include "queue.h"
#include "state.h"
#include "table.h"

#define USAGE "bounce id"
/* a notice that has not been queued in an hour is stuck on a broken
   disk; send sees the signal and tries again later */
#define LIFETIME 3600

static char const *id ;
static char statepath[QUEUE_PATH_MAX] ;

static void read_state (stralloc *sa, state_msg *m)
{
  struct stat st ;
  int fd ;
  queue_path(statepath, QUEUE_STATE, id) ;
  fd = open(statepath, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) strerr_diefu2sys(111, "open ", statepath) ;
  if (fstat(fd, &st) < 0) strerr_diefu2sys(111, "stat ", statepath) ;
  if (st.st_size > STATE_BYTES_MAX) strerr_dief2x(100, statepath, " is too large") ;
  if (!stralloc_ready(sa, (size_t)st.st_size)) strerr_diefu1sys(111, "allocate") ;
  sa->len = allread(fd, sa->s, (size_t)st.st_size) ;
  if (sa->len < (size_t)st.st_size && errno) strerr_diefu2sys(111, "read ", statepath) ;
  fd_close(fd) ;
  if (!state_parse(m, sa->s, sa->len)) strerr_dief2x(100, statepath, " is malformed") ;
}

/* The header section (up to the first empty line), at most
   BOUNCE_HEADERS_MAX bytes cut after a whole line. */
static void read_headers (bounce_info *b, char *buf)
{
  char path[QUEUE_PATH_MAX] ;
  char const *end ;
  ssize_t r ;
  size_t got ;
  queue_path(path, QUEUE_BODY, id) ;
  r = openreadnclose(path, buf, BOUNCE_HEADERS_MAX) ;
  if (r < 0) strerr_diefu2sys(111, "read ", path) ;
  got = (size_t)r ;
  b->headers = buf ;
  b->headerscut = 0 ;
  if (got && buf[0] == '\n') b->headerslen = 0 ;
  else if ((end = memmem(buf, got, "\n\n", 2))) b->headerslen = (size_t)(end - buf) + 1 ;
  else if (got < BOUNCE_HEADERS_MAX) b->headerslen = got ;  /* no body: all headers */
  else
  {
    end = memrchr(buf, '\n', got) ;
    b->headerslen = end ? (size_t)(end - buf) + 1 : got ;
    b->headerscut = 1 ;
  }
}

static void read_me (stralloc *me)
{
  struct utsname u ;
  int r = control_readline(me, "me") ;
  if (r < 0) strerr_diefu1sys(111, "read control/me") ;
  if (!r || !me->len)
  {
    if (uname(&u) < 0) strerr_diefu1sys(111, "get the host name") ;
    if (!stralloc_copys(me, u.nodename)) strerr_diefu1sys(111, "allocate") ;
  }
  if (me->len > BOUNCE_ME_MAX) strerr_dief1x(111, "control/me is longer than 255 bytes") ;
  if (!stralloc_0(me)) strerr_diefu1sys(111, "allocate") ;
}

/* control/doublebounceto (default postmaster), "@me" added when it has
   no '@'; returns 0 when it is an empty line: drop double bounces */
static int read_doublebounceto (stralloc *to, char const *me)
{
  int r = control_readline(to, "doublebounceto") ;
  if (r < 0) strerr_diefu1sys(111, "read control/doublebounceto") ;
  if (r && !to->len) return 0 ;
  if (!r && !stralloc_copys(to, "postmaster")) strerr_diefu1sys(111, "allocate") ;
  if (!memchr(to->s, '@', to->len) && (!stralloc_catb(to, "@", 1) || !stralloc_cats(to, me)))
    strerr_diefu1sys(111, "allocate") ;
  if (to->len > ADDR_MAX) strerr_dief1x(111, "control/doublebounceto is longer than 256 bytes") ;
  if (!stralloc_0(to)) strerr_diefu1sys(111, "allocate") ;
  return 1 ;
}

static time_t id_time (void)
{
  uint32_t t = 0 ;
  for (unsigned int i = 0 ; i < 8 ; i++)
    t = t << 4 | (uint32_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10) ;
  return (time_t)t ;
}

static void say (char const *what, char const *to)
{
  if (!buffer_puts(buffer_1, what) || !buffer_puts(buffer_1, id)
   || (to && (!buffer_puts(buffer_1, " to ") || !buffer_puts(buffer_1, to)))
   || !buffer_putsflush(buffer_1, "\n"))
    strerr_warnwu1sys("write to stdout") ;  /* the notice is queued: still 0 */
}

static char headers[BOUNCE_HEADERS_MAX] ;

int main (int argc, char const *const *argv)
{
  stralloc st = STRALLOC_ZERO, me = STRALLOC_ZERO, to = STRALLOC_ZERO ;
  stralloc msg = STRALLOC_ZERO ;
  bounce_info b ;
  state_msg m ;
  state_rcpt r ;
  size_t pos ;
  unsigned int failed = 0 ;
  PROG = "bounce" ;
  if (argc != 2 || !queue_id_valid(argv[1])) strerr_dieusage(100, USAGE) ;
  id = argv[1] ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  alarm(LIFETIME) ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  read_state(&st, &m) ;
  for (pos = m.rcpts_at ; state_next_rcpt(&m, st.s, &pos, &r) ;)
    if (r.status == ST_FAILED) failed++ ;
  if (!failed) strerr_dief2x(100, "no failed recipient in ", statepath) ;
  if (!strcmp(m.sender, BOUNCE_DOUBLE_SENDER)) { say("dropped double bounce for ", 0) ; return 0 ; }
  read_me(&me) ;
  b.isdouble = !m.sender[0] ;
  if (!b.isdouble) b.to = m.sender ;
  else if (read_doublebounceto(&to, me.s)) b.to = to.s ;
  else { say("dropped double bounce for ", 0) ; return 0 ; }
  b.id = id ; b.me = me.s ; b.state = st.s ; b.m = &m ;
  b.arrival = id_time() ; b.now = time(0) ;
  read_headers(&b, headers) ;
  if (!bounce_compose(&msg, &b)) strerr_diefu1sys(111, "allocate") ;
  bounce_inject(id, msg.s, msg.len, b.isdouble ? BOUNCE_DOUBLE_SENDER : "", b.to) ;
  say("queued bounce for ", b.to) ;
  return 0 ;
}
