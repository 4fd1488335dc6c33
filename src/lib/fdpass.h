#ifndef POSTERN_FDPASS_H
#define POSTERN_FDPASS_H

/* several descriptors in one message (SCM_RIGHTS) on a unix socket,
   with one byte of data; at most FDPASS_MAX of them */
#define FDPASS_MAX 8

/* returns 1, or 0 with errno */
extern int fdpass_send (int sock, int const *fds, unsigned int n) ;
/* exactly n descriptors (close-on-exec) into fds: returns 1; 0 at EOF
   or if another number came (those closed); -1 with errno */
extern int fdpass_recv (int sock, int *fds, unsigned int n) ;

#endif
