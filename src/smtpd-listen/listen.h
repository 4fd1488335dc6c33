#ifndef POSTERN_LISTEN_H
#define POSTERN_LISTEN_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include <skalibs/types.h>
#include "proxyfrom.h"
#include "wpool.h"

#define LISTEN_USAGE "smtpd-listen [ -c maxsessions ] [ -b backlog ] [ -x rules.cdb ] [ -X ] [ -l localname ] [ -u uid -g gid ] [ -n sessions-per-worker ] [ -C maxperip ] [ -N maxper24 ] [ -M maxper64 ] [ -p proxyfrom ] [ -P secs ] host port program [ args ]"
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
/* sessions at once from one client address, one IPv4 /24 and one
   IPv6 /64 (0: no limit). A quarter of the default 40 sessions for an
   address; half for a /24 (an operator's few hosts) and a /64 (one
   site, where a host's privacy addresses change within the /64).
   RELAYCLIENT clients are exempt, as Postfix exempts $mynetworks. */
#define LISTEN_PERIP_DEFAULT 10
#define LISTEN_PER24_DEFAULT 20
#define LISTEN_PER64_DEFAULT 20
/* a client that comes while every session is busy waits this many
   seconds for one to end, as it would in the backlog, then reads a 421;
   at most this many wait so (a descriptor each) */
#define LISTEN_HOLD_SEC 5
#define LISTEN_HOLD_MAX 64
/* connections from a balancer (-p) waiting for their PROXY header, at
   most this many at once, each at most -P seconds (default): HAProxy
   sends the header with its first packet, so a wait is short and 64 are
   plenty; when they are all taken the oldest is dropped (a balancer
   that cannot send a header stalls no one) */
#define LISTEN_PROXY_MAX 64
#define LISTEN_PROXY_SEC 5
#define LISTEN_PROXY_SEC_MAX 3600
/* a local name (-l) is a host name: RFC 1035 */
#define LISTEN_NAME_MAX 255

struct listen_opts
{
  unsigned int conc ;
  unsigned int backlog ;
  unsigned long maxuse ;     /* sessions per worker */
  unsigned int perip ;       /* -C, -N, -M: 0 is no limit */
  unsigned int per24 ;
  unsigned int per64 ;
  char const *rules ;        /* -x, or 0 */
  int norulesok ;            /* -X: a missing rules file allows all */
  char const *localname ;    /* -l, or 0 */
  int ids ;                  /* -u and -g given */
  uid_t uid ;
  gid_t gid ;
  char const *proxyfile ;    /* -p, or 0 */
  proxyfrom *proxy ;         /* its balancers, reloaded on SIGHUP */
  unsigned int proxysec ;    /* -P */
  char const *host ;
  char const *port ;
  char const *const *argv ;  /* the worker program; argv[0] a path */
} ;


/* an address as text (INET6_ADDRSTRLEN) */
#define LISTEN_IP_MAX 46

/* an accepted connection's addresses as text: the socket's own, or,
   after a balancer's PROXY header, the client's it names */
struct listen_conn
{
  int fd ;
  char rip[LISTEN_IP_MAX] ;
  char rport[UINT16_FMT] ;
  char lip[LISTEN_IP_MAX] ;
  char lport[UINT16_FMT] ;
  char from[LISTEN_IP_MAX] ; /* the balancer's address, or "" */
} ;

/* listen_vars.c: the address and port of ss as text (ip LISTEN_IP_MAX,
   port UINT16_FMT bytes); NAME=value NUL appended to sa (1, or 0 with
   errno); 1 if the items in vars set RELAYCLIENT */
struct sockaddr_storage ;
extern void listen_addr (struct sockaddr_storage const *ss, char *ip, char *port) ;
extern int listen_var (stralloc *sa, char const *name, char const *value) ;
extern int listen_relayclient (stralloc const *vars) ;

/* a session's client, kept for each worker slot while it is busy */
struct listen_client
{
  unsigned char ip[16] ;     /* IPv4 in the first 4 bytes */
  unsigned char v6 ;
  unsigned char counted ;    /* 0: exempt (RELAYCLIENT), or no session */
} ;

/* listen_limit.c: c from the client's address as text (IPv4-mapped as
   IPv4) */
extern void listen_client_set (struct listen_client *c, char const *ip) ;
/* the limit of o that client c would pass with the busy slots of p
   (tab their clients): "address", "/24" or "/64" and *limit; or 0 */
extern char const *listen_over (struct listen_opts const *o, wpool const *p,
  struct listen_client const *tab, struct listen_client const *c, unsigned int *limit) ;
/* writes "421 status host text" to the client without waiting, reads
   what it sent already and shuts down our side; the caller closes */
extern void listen_refuse (int fd, char const *host, char const *status, char const *text) ;

/* listen_hold.c: keeps k waiting for a session (1), or 0 if
   LISTEN_HOLD_MAX wait already; the deadline of the oldest, or 0 if
   none; takes the oldest out into *k (0 if none) */
extern int listen_hold_push (struct listen_conn const *k) ;
extern tain const *listen_hold_next (void) ;
extern int listen_hold_pop (struct listen_conn *k) ;

/* listen_proxy.c: balancers' connections waiting for their header.
   push: k waits until *deadline (1), or 0 if LISTEN_PROXY_MAX wait
   already; oldest: takes the one waiting longest into *k, if its
   deadline is before *now or now is 0 (1), else 0; next: the earliest
   deadline, or 0; fds: an iopause entry for each, tok base + its slot;
   read: slot j is readable: 1 with *k the client the header names (the
   header, and nothing after it, read), 0 to wait for more, -1 dropped
   (*k the balancer's connection, *why said why; the caller closes) */
extern int listen_proxy_push (struct listen_conn const *k, tain const *deadline) ;
extern int listen_proxy_oldest (struct listen_conn *k, tain const *now) ;
extern tain const *listen_proxy_next (void) ;
extern unsigned int listen_proxy_fds (iopause_fd *x, unsigned int *tok, unsigned int base) ;
extern int listen_proxy_read (unsigned int j, struct listen_conn *k, char const **why) ;

/* listen_log.c: one line "smtpd-listen: " and the strings on fd 2 */
extern void listen_logv (char const *const *v, unsigned int n) ;
#define LISTEN_LOG(...) listen_logv((char const *const []){ __VA_ARGS__ }, \
  sizeof((char const *const []){ __VA_ARGS__ }) / sizeof(char const *))

/* listen_loop.c: accepts on the bound socket s until SIGTERM */
extern int listen_loop (struct listen_opts const *o, int s) ;

#endif
