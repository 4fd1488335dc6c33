/* The queue roots of control/queues (postern-queue(5)): one path a line,
   '#' lines and empty ones skipped, '-' before a path for a root being
   drained. Read once, and again when an id names a root beyond the list:
   a long-lived worker then follows a root the operator appended. */

#include <errno.h>
#include <string.h>
#include <skalibs/djbunix.h>
#include "queue.h"

/* the file: every root's path and a newline, with a few comments */
#define ROOTS_FILE_MAX (QUEUE_ROOTS_MAX * (QUEUE_ROOT_MAX + 2) + 2048)

static char paths[QUEUE_ROOTS_MAX][QUEUE_ROOT_MAX + 1] ;
static unsigned char draining[QUEUE_ROOTS_MAX] ;
static unsigned int nroots ;
static int loaded ;

/* no control/queues: the home's queue/ alone, as before roots */
static void single (void)
{
  memcpy(paths[0], QUEUE_DIR, sizeof QUEUE_DIR) ;
  draining[0] = 0 ;
  nroots = 1 ; loaded = 1 ;
}

int queue_roots_load (void)
{
  static char buf[ROOTS_FILE_MAX + 1] ;
  char newpaths[QUEUE_ROOTS_MAX][QUEUE_ROOT_MAX + 1] ;
  unsigned char newdrain[QUEUE_ROOTS_MAX] ;
  unsigned int n = 0 ;
  ssize_t r = openreadnclose(QUEUE_ROOTS_FILE, buf, sizeof buf) ;
  size_t pos = 0 ;
  if (r < 0)
  {
    if (errno != ENOENT) return -1 ;
    single() ;
    return 1 ;
  }
  if ((size_t)r > ROOTS_FILE_MAX || memchr(buf, 0, (size_t)r)) return (errno = EINVAL, -1) ;
  while (pos < (size_t)r)
  {
    char const *nl = memchr(buf + pos, '\n', (size_t)r - pos) ;
    size_t end = nl ? (size_t)(nl - buf) : (size_t)r ;
    size_t a = pos, b = end ;
    int drain = 0 ;
    pos = end + 1 ;
    while (a < b && (buf[a] == ' ' || buf[a] == '\t')) a++ ;
    while (b > a && (buf[b-1] == ' ' || buf[b-1] == '\t' || buf[b-1] == '\r')) b-- ;
    if (a == b || buf[a] == '#') continue ;
    if (buf[a] == '-') { drain = 1 ; a++ ; }
    while (b > a && buf[b-1] == '/') b-- ;
    if (a == b || b - a > QUEUE_ROOT_MAX || n >= QUEUE_ROOTS_MAX) return (errno = EINVAL, -1) ;
    memcpy(newpaths[n], buf + a, b - a) ;
    newpaths[n][b - a] = 0 ;
    newdrain[n++] = (unsigned char)drain ;
  }
  if (!n) return (errno = EINVAL, -1) ;
  memcpy(paths, newpaths, sizeof paths) ;
  memcpy(draining, newdrain, sizeof draining) ;
  nroots = n ; loaded = 1 ;
  return (int)n ;
}

unsigned int queue_roots (void)
{
  if (!loaded && queue_roots_load() < 0) single() ;
  return nroots ;
}

char const *queue_root (unsigned int i)
{
  if (i >= queue_roots())
  {
    /* a root added since we read the list? */
    if (queue_roots_load() < 0 || i >= nroots) return 0 ;
  }
  return paths[i] ;
}

int queue_root_writable (unsigned int i)
{
  return i < queue_roots() && !draining[i] ;
}
