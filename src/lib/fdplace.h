#ifndef POSTERN_FDPLACE_H
#define POSTERN_FDPLACE_H

/* puts from[i] on to[i] for each i < n, wherever they are: each is
   copied above every target first, so that no dup2 closes one not yet
   moved; the originals and the copies are closed, the targets are not
   close-on-exec. Returns 1, or 0 with errno. */
extern int fdplace (int const *from, int const *to, unsigned int n) ;

#endif
