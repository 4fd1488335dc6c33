#ifndef QSTATS_H
#define QSTATS_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

/* age columns, as qshape's: under 5, 10, 20 ... 1280 minutes, then older */
#define QSTATS_AGES 10
/* distinct domains counted (about 150 bytes each); recipients at any
   further domain are counted under "(other)" */
#define QSTATS_DOMAINS_MAX 1000000
/* -n: most domain rows shown */
#define QSTATS_TOP_MAX QSTATS_DOMAINS_MAX
#define QSTATS_TOP_DEFAULT 10

/* recipient rows and channel columns of the first table */
enum qstats_row { QR_UNSORTED, QR_FAST, QR_SLOW, QR_DONE, QR_FAILED, QR_BOUNCED, QR_N } ;
enum qstats_col { QC_LOCAL, QC_REMOTE, QC_TOTAL, QC_N } ;

struct qstats_counts
{
  unsigned long msgs ;
  unsigned long unsorted ;   /* of msgs, still in queue/todo */
  unsigned long rcpts[QR_N][QC_N] ;
} ;

struct qstats_dom
{
  size_t name ;              /* offset in the pool, NUL-terminated, lowercased */
  unsigned long total ;
  unsigned long ages[QSTATS_AGES] ;
} ;

/* qstats_dom.c: waiting recipients by domain */
extern void qstats_dom_add (char const *addr, unsigned int age) ;   /* age: a column */
extern struct qstats_dom *qstats_dom_all (size_t *n, char const **pool) ;

/* qstats_print.c: both tables into out */
extern int qstats_print (stralloc *out, struct qstats_counts const *c, unsigned int top) ;

#endif
