#ifndef QUEUE_WRITER_H
#define QUEUE_WRITER_H

#include <sys/types.h>
#include <skalibs/tai.h>
#include "envelope.h"
#include "qinject.h"
#include "qwrite.h"

/* the socket, relative to the home (queue-writer(8)) */
#define QW_SOCKET QINJECT_SOCKET
/* clients served at once; more wait in the listen backlog, and a client
   whose connect finds that full too runs queue-inject instead */
#define QW_CLIENTS_MAX 256
#define QW_BACKLOG 64
/* a message chunk's netstring holds at most this many bytes */
#define QW_CHUNK_MAX QINJECT_CHUNK_MAX
/* a client silent this long is dropped (qmail-smtpd's DATA timeout) */
#define QW_TIMEOUT 1200
/* and none is served longer than queue-inject lives */
#define QW_LIFETIME 86400
/* after SIGTERM, clients in the middle of a message get this long */
#define QW_GRACE 10
/* one read from a client, at most */
#define QW_READ_MAX 65536
/* concurrent fsyncs of a commit, by default (-p) */
#define QW_SYNC_DEFAULT 64

enum qw_state
{
  Q_LEN,      /* a chunk's length digits */
  Q_DATA,     /* its bytes */
  Q_COMMA,    /* its comma */
  Q_ENDCOMMA, /* the comma of 0:, */
  Q_ELEN,     /* the envelope's length digits */
  Q_ENV,      /* its bytes */
  Q_ECOMMA,   /* its comma */
  Q_READY     /* complete: waits for the next commit */
} ;

typedef struct qw_client_s qw_client, *qw_client_ref ;
struct qw_client_s
{
  int fd ;
  uid_t uid ;
  enum qw_state state ;
  size_t len ;            /* the netstring's length, as read */
  unsigned int digits ;
  size_t need ;           /* its bytes still to come */
  unsigned long total ;   /* message bytes, against control/databytes */
  env_check ec ;
  tain deadline ;
  tain end ;              /* start + QW_LIFETIME */
  qwrite_msg m ;
} ;

extern unsigned long qw_databytes ;
/* the subdirectory new messages go to; the next one after each commit
   round, so a round's messages share their directories and the queue
   still spreads over every subdirectory */
extern unsigned int qw_sub ;

/* reads what the client sent and moves it on; 1 to keep it, 0 when
   it has been answered with an error and closed */
extern int qw_read (qw_client *c) ;
/* answers: code, and the id for 0; closes the connection */
extern void qw_answer (qw_client *c, int code) ;
/* removes what the client's message left and answers code */
extern void qw_fail (qw_client *c, int code) ;
/* commits every complete message of the n clients and answers them */
extern void qw_commit (qw_client *c, unsigned int n, unsigned int par) ;
/* writes the stats line on stdout */
extern void qw_stats (void) ;

#endif
