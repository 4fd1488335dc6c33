#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "home.h"
#include "local.h"

/* seconds a program may run (Postfix's command_time_limit); then its
   process group is killed and the delivery deferred */
#define PROGRAM_TIMEOUT 1000
#define PROGRAM_TIMEOUT_TEXT "4.3.0 program timed out after 1000 seconds"

static pid_t volatile running ;
static int volatile timedout ;

static void on_alarm (int sig)
{
  (void)sig ;
  timedout = 1 ;
  if (running > 0) kill(-running, SIGKILL) ;
}

/* what the program said: its first line, from the first LOCAL_TEXT_MAX
   bytes; the rest is read and dropped so it never blocks on the pipe */
static size_t collect (int fd, char *out)
{
  char junk[4096] ;
  size_t n = 0 ;
  for (;;)
  {
    ssize_t r = n < LOCAL_TEXT_MAX ? read(fd, out + n, LOCAL_TEXT_MAX - n) : read(fd, junk, sizeof junk) ;
    if (r < 0) { if (errno == EINTR) continue ; break ; }
    if (!r) break ;
    if (n < LOCAL_TEXT_MAX) n += (size_t)r ;
  }
  out[n] = 0 ;
  n = strcspn(out, "\n") ;
  out[n] = 0 ;
  return n ;
}

/* exit 100 and 111+: the program's own text if it starts with a status
   of the right class, else one made here */
static int fail (stralloc *t, int code, char const *out, int status)
{
  char cls = code == LOCAL_PERM ? '5' : '4' ;
  char why[8 + UINT_FMT] = "exited " ;
  if (out[0] == cls && out[1] == '.' && out[2] >= '0' && out[2] <= '9') return local_say(t, code, out, "", "") ;
  why[7 + uint_fmt(why + 7, status)] = 0 ;
  return local_say(t, code, cls == '5' ? "5.0.0 program " : "4.0.0 program ", *out ? "failed: " : why, out) ;
}

int local_program (local_ctx const *c, char const *cmd, stralloc *t)
{
  char out[LOCAL_TEXT_MAX + 1] ;
  char why[40] ;
  char const *argv[4] = { "/bin/sh", "-c", cmd, 0 } ;
  stralloc rp = STRALLOC_ZERO, dt = STRALLOC_ZERO ;
  int p[2], fd, wstat ;
  size_t n ;
  if (!stralloc_catb(&rp, c->lines.s, c->rplen) || !stralloc_0(&rp)
   || !stralloc_catb(&dt, c->lines.s + c->rplen, c->lines.len - c->rplen) || !stralloc_0(&dt))
    return local_temp(t, "allocate", "") ;
  {
    char const *env[] =
    {
      "SENDER", c->sender, "RECIPIENT", c->recipient, "USER", c->user, "HOME", c->home,
      "LOCAL", c->localname, "EXT", c->ext, "HOST", c->domain,
      "DTLINE", dt.s, "RPLINE", rp.s, "POSTERN_HOME", home_dir(), 0
    } ;
    fd = local_memfd(c->lines.s, c->lines.len, t) ;
    if (fd < 0) return LOCAL_TEMP ;
    if (pipecoe(p) < 0) { fd_close(fd) ; return local_temp(t, "create a pipe", "") ; }
    if (!sig_catch(SIGALRM, &on_alarm)) { fd_close(fd) ; fd_close(p[0]) ; fd_close(p[1]) ; return local_temp(t, "catch SIGALRM", "") ; }
    timedout = 0 ;
    running = local_spawn("/bin/sh", argv, env, fd, p[1], p[1]) ;
  }
  fd_close(fd) ;
  fd_close(p[1]) ;
  stralloc_free(&rp) ; stralloc_free(&dt) ;
  if (running < 0) { fd_close(p[0]) ; return local_temp(t, "fork", "") ; }
  alarm(PROGRAM_TIMEOUT) ;
  n = collect(p[0], out) ;
  fd_close(p[0]) ;
  if (wait_pid(running, &wstat) < 0) { alarm(0) ; running = 0 ; return local_temp(t, "wait for the program", "") ; }
  alarm(0) ;
  running = 0 ;
  if (timedout) return local_say(t, LOCAL_TEMP, PROGRAM_TIMEOUT_TEXT, "", "") ;
  if (WIFSIGNALED(wstat))
  {
    why[int_fmt(why, WTERMSIG(wstat))] = 0 ;
    return local_say(t, LOCAL_TEMP, "4.3.0 program killed by signal ", why, "") ;
  }
  switch (WEXITSTATUS(wstat))
  {
    case 0 :
    case 99 :
      local_say(t, WEXITSTATUS(wstat), "program: ", n ? out : "delivered", "") ;
      return WEXITSTATUS(wstat) ;
    case 100 : return fail(t, LOCAL_PERM, out, 100) ;
    default : return fail(t, LOCAL_TEMP, out, WEXITSTATUS(wstat)) ;
  }
}
