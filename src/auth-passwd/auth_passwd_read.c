#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/strerr.h>
#include "auth.h"
#include "auth_passwd.h"

static struct termios saved ;
static int echo_off = 0 ;
/* the second answer on a terminal */
static char again[AUTH_PASSWORD_MAX + 1] ;
static char *first ;

static void restore (void)
{
  if (echo_off) tcsetattr(0, TCSANOW, &saved) ;
  echo_off = 0 ;
}

static void die (int code, char const *text)
{
  int e = errno ;
  explicit_bzero(first, AUTH_PASSWORD_MAX + 1) ;
  explicit_bzero(again, sizeof again) ;
  restore() ;
  errno = e ;
  if (code == 111) strerr_diefu1sys(code, text) ;
  strerr_dief1x(code, text) ;
}

/* ^C while echo is off must not leave the terminal silent */
static void on_signal (int sig)
{
  (void)sig ;
  restore() ;
  _exit(111) ;
}

/* one line of fd 0 into pw, without its newline; returns the length */
static size_t line (char *pw)
{
  size_t n = 0 ;
  for (;;)
  {
    char c ;
    ssize_t r = read(0, &c, 1) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r < 0) die(111, "read the password") ;
    if (!r || c == '\n') break ;
    if (!c) die(100, "the password holds a NUL byte") ;
    if (n == AUTH_PASSWORD_MAX) die(100, "the password is longer than 200 bytes") ;
    pw[n++] = c ;
  }
  pw[n] = 0 ;
  if (!n) die(100, "empty password: nothing changed") ;
  return n ;
}

/* on the terminal: echo off, then the prompt on fd 2 (what is typed
   after the prompt is never flushed nor shown) */
static size_t ask (char const *prompt, char *pw)
{
  struct termios t = saved ;
  size_t n ;
  t.c_lflag &= ~(ECHO | ECHONL) ;
  echo_off = 1 ;
  if (tcsetattr(0, TCSANOW, &t) < 0) die(111, "turn the terminal's echo off") ;
  allwrite(2, prompt, strlen(prompt)) ;
  n = line(pw) ;
  restore() ;
  allwrite(2, "\n", 1) ;
  return n ;
}

size_t auth_passwd_read (char *pw)
{
  struct sigaction sa ;
  size_t n ;
  first = pw ;
  if (tcgetattr(0, &saved) < 0)
  {
    if (errno != ENOTTY && errno != EINVAL) die(111, "read the terminal's settings") ;
    return line(pw) ;
  }
  memset(&sa, 0, sizeof sa) ;
  sa.sa_handler = &on_signal ;
  sigemptyset(&sa.sa_mask) ;
  if (sigaction(SIGINT, &sa, 0) < 0 || sigaction(SIGTERM, &sa, 0) < 0
   || sigaction(SIGHUP, &sa, 0) < 0 || sigaction(SIGQUIT, &sa, 0) < 0)
    die(111, "catch signals") ;
  n = ask("New password: ", pw) ;
  if (ask("Again: ", again) != n || memcmp(pw, again, n))
    die(100, "the two passwords differ: nothing changed") ;
  explicit_bzero(again, sizeof again) ;
  return n ;
}
