#ifndef SEND_START_H
#define SEND_START_H

#include <sys/types.h>
#include <skalibs/tai.h>

/* a spawner is restarted no sooner than this after its last start
   (seconds): one that dies at once (a missing program) costs a fork a
   second, not a busy loop */
#define RESTART_DELAY 1

/* an account of conf-users; set 0: keep ours (not started as root) */
struct send_start_acct { uid_t uid ; gid_t gid ; int set ; char const *name ; } ;

/* one long-lived child of send, over two pipes (its fds 0 and 1) */
struct send_start_kid
{
  char const *name ;            /* its program in bin/, and its name to send */
  struct send_start_acct a ;
  pid_t pid ;                   /* 0: not running */
  int due ;                     /* to be restarted */
  tain next ;                   /* not restarted before this */
} ;
/* send's own numbering of them (send.h) */
enum { K_RECORD, K_CLEAN, K_LSPAWN, K_RSPAWN, K_N } ;

extern void send_start_lookup (struct send_start_acct *a, char const *name) ;
extern void send_start_become (struct send_start_acct const *a) ;
extern int send_start_kid (struct send_start_kid *k, int sock) ;
extern pid_t send_start_send (int sock, int notify, struct send_start_acct const *a) ;
extern void send_start_died (char const *name, int wstat, char const *what) ;

#endif
