#ifndef POSTERN_SIGTRAP_H
#define POSTERN_SIGTRAP_H

/* A daemon's signals, as the send service takes them: SIGPIPE ignored,
   SIGCHLD, SIGALRM, SIGHUP, SIGTERM and SIGINT to a new selfpipe.
   Returns the selfpipe's fd, or -1 with errno. */
extern int sigtrap_daemon (void) ;

#endif
