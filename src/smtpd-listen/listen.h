#ifndef POSTERN_LISTEN_H
#define POSTERN_LISTEN_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include "wpool.h"

#define LISTEN_USAGE "smtpd-listen [ -c maxsessions ] [ -b backlog ] [ -x rules.cdb ] [ -X ] [ -l localname ] [ -u uid -g gid ] [ -n sessions-per-worker ] host port program [ args ]"
/* the variables handed with a connection, NAME=value NUL each: ours
   (about 200 bytes with a 255-byte -l) and the matching rule's; the
   worker reads no more (smtpd -w) */
#define LISTEN_VARS_MAX WPOOL_MSG_MAX
/* seconds a worker may wait idle before it is told to end (Postfix's
   max_idle is 100 s): a quiet night keeps no worker */
#define LISTEN_IDLE_MAX 100
/* tcpserver's defaults: -c 40, -b 20; Postfix's max_use: 100 */
#define LISTEN_CONC_DEFAULT 40
#define LISTEN_CONC_MAX 10000
#define LISTEN_BACKLOG_DEFAULT 20
#define LISTEN_MAXUSE_DEFAULT 100
/* a local name (-l) is a host name: RFC 1035 */
#define LISTEN_NAME_MAX 255

struct listen_opts
{
  unsigned int conc ;
  unsigned int backlog ;
  unsigned long maxuse ;     /* sessions per worker */
  char const *rules ;        /* -x, or 0 */
  int norulesok ;            /* -X: a missing rules file allows all */
  char const *localname ;    /* -l, or 0 */
  int ids ;                  /* -u and -g given */
  uid_t uid ;
  gid_t gid ;
  char const *host ;
  char const *port ;
  char const *const *argv ;  /* the worker program; argv[0] a path */
} ;

/* listen_rules.c: tcprules' cdb at path for the client at ip. Returns 1
   (allow: the rule's NAME=value NUL items appended to vars), 0 (deny),
   -1 with errno (unreadable; ENOENT: no such file) */
extern int listen_rules (char const *path, char const *ip, stralloc *vars) ;

/* listen_log.c: one line "smtpd-listen: " and the strings on fd 2 */
extern void listen_logv (char const *const *v, unsigned int n) ;
#define LISTEN_LOG(...) listen_logv((char const *const []){ __VA_ARGS__ }, \
  sizeof((char const *const []){ __VA_ARGS__ }) / sizeof(char const *))

/* listen_loop.c: accepts on the bound socket s until SIGTERM */
extern int listen_loop (struct listen_opts const *o, int s) ;

#endif
