#ifndef TLSD_H
#define TLSD_H

#include <sys/types.h>
#include <tls.h>

/* the engine's descriptors (tlsd(8)) */
#define TLSD_NET_IN 0
#define TLSD_NET_OUT 1
#define TLSD_CTL 3
#define TLSD_FROM_APP 4
#define TLSD_TO_APP 5

/* seconds a client gets to finish the handshake (-t) */
#define TLSD_HANDSHAKE_DEFAULT 60
/* seconds a write to the network may make no progress before we give up */
#define TLSD_STALL_MAX 300
/* bytes buffered each way: one TLS record's worth of clear text */
#define TLSD_BUF_MAX 16384
/* SNI keypairs read from tls/ besides default: each costs a parse per connection */
#define TLSD_KEYPAIRS_MAX 64
/* a keypair's NAME: a host name (RFC 1035: 253 octets) */
#define TLSD_NAME_MAX 253
/* -d: engines at once (-c); past it, smtpd starts its own */
#define TLSD_DAEMON_MAX 1000
/* seconds a client of -d has to pass its descriptors */
#define TLSD_PASS_TIMEOUT 5
/* seconds a session ticket stays valid */
#define TLSD_SESSION_LIFETIME 7200

struct tlsd_ids
{
  uid_t uid ;
  gid_t gid ;
  int set ;
} ;

struct tlsd_opts
{
  unsigned int timeout ;
  struct tlsd_ids app ;
  struct tlsd_ids engine ;
} ;

/* tlsd_priv.c: each dies 111 if a change fails */
extern void tlsd_become_engine (struct tlsd_ids const *) ;
extern void tlsd_become_app (struct tlsd_ids const *) ;

/* tlsd_launch.c: returns in the engine (fds 3, 4, 5 in place); execs prog in the parent */
extern void tlsd_launch (struct tlsd_opts const *, char const *const *) ;

/* tlsd_config.c: tls_init, protocols, keypairs and ticket key from
   home_dir()/tls; 0 (warned) on failure */
extern struct tls_config *tlsd_config (void) ;

/* tlsd_handshake.c: a server context on cfg (0, warned, on failure);
   the server handshake on fds 0/1 within secs, then the environment
   block on fd 3 (closed after it); dies 1 on failure */
extern struct tls *tlsd_server (struct tls_config *) ;
extern struct tls *tlsd_handshake (struct tls *, unsigned int) ;

/* tlsd_engine.c: the engine on fds 0, 1, 3, 4, 5: waits for Y (0 if
   the application went without), handshake, relay; the exit code */
extern int tlsd_engine (struct tls *srv, unsigned int secs) ;

/* tlsd_sig.c: a signature of tls/ (names, inodes, sizes, mtimes) that
   changes when a file there is replaced, added or removed */
extern unsigned long long tlsd_sig (void) ;

/* tlsd_daemon.c: -d: the engines forked from one process that set
   TLS up once; smtpd passes fds 0/1, 3, 4, 5 over the socket at path */
extern int tlsd_daemon (char const *path, unsigned int max, unsigned int secs) ;

/* tlsd_relay.c: relays until one side ends; returns the exit code */
extern int tlsd_relay (struct tls *) ;

#endif
