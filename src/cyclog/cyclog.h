#ifndef CYCLOG_H
#define CYCLOG_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/buffer.h>
#include <skalibs/tai.h>

#define CYCLOG_USAGE "cyclog [-s bytes] [-n count] [-l linemax] dir"

/* defaults and bounds, as cyclog(8) documents them */
#define CYCLOG_SIZE_DEFAULT 1000000
/* multilog's and s6-log's floor: rotating more often is a misconfiguration */
#define CYCLOG_SIZE_MIN 4096
#define CYCLOG_COUNT_DEFAULT 10
/* every rotation reads the whole directory to find the oldest file */
#define CYCLOG_COUNT_MAX 100000
#define CYCLOG_LINE_DEFAULT 8192
/* an unfinished line is held in memory until its newline comes */
#define CYCLOG_LINE_MAX 1048576
/* what cyclog adds to a line: stamp and space, the "..." marker, newline */
#define CYCLOG_OVERHEAD (TIMESTAMP + 1 + 3 + 1)
/* bytes read at once: a Linux pipe's default capacity */
#define CYCLOG_IN 65536
/* records batched before a write(2), besides room for one longest record */
#define CYCLOG_OUT 65536
/* on a write error (full disk), seconds between retries; a warning every
   CYCLOG_REPORT retries */
#define CYCLOG_RETRY 1
#define CYCLOG_REPORT 60

struct cyclog_s
{
  uint64_t smax ;          /* -s */
  unsigned int nmax ;      /* -n */
  size_t linemax ;         /* -l */
  int fd ;                 /* current */
  uint64_t cursize ;       /* current's size, buffered bytes included */
  buffer out ;             /* records not yet written to current */
  char *part ;             /* an unfinished line, linemax bytes at most */
  size_t partlen ;
  int skipping ;           /* dropping the rest of a cut line */
  uint64_t cuts ;          /* lines cut since start */
  uint64_t cutsreported ;
  char stamp[TIMESTAMP + 1] ;  /* the last read's TAI64N label, then a space */
  tain lastrot ;           /* the last rotated file's name */
} ;
extern struct cyclog_s cyclog_state ;

/* cyclog_line.c: splits input into records */
extern void cyclog_lines (char const *s, size_t n) ;
extern void cyclog_record (char const *s, size_t n, int cut) ;

/* cyclog_out.c: writes records to current, retrying forever */
extern int cyclog_open (void) ;
extern void cyclog_flush (void) ;
extern void cyclog_sync (void) ;
extern void cyclog_wait (char const *what, unsigned int *tries) ;
extern void cyclog_report_cuts (void) ;

/* cyclog_rotate.c */
extern void cyclog_rotate_init (void) ;
extern void cyclog_rotate (void) ;

#endif
