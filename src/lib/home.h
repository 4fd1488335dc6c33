#ifndef POSTERN_HOME_H
#define POSTERN_HOME_H

/* conf-home, compiled in (build/auto/auto_home.c, which the Makefile writes) */
extern char const auto_home[] ;

/* POSTERN_HOME if set and the process is not setuid/setgid, else auto_home */
extern char const *home_dir (void) ;
/* chdir to home_dir(); -1 with errno on failure */
extern int home_chdir (void) ;

#endif
