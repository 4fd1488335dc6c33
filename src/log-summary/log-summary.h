#ifndef LOG_SUMMARY_H
#define LOG_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

#define SUMMARY_USAGE "log-summary [--svg file] [-w seconds] logdir [logdir ...]"

/* Every limit, so that memory is fixed whatever the size of the log
   (log-summary(8), SECURITY). */

/* directories on the command line: each holds two buffers below */
#define SUMMARY_DIRS_MAX 32
/* rotated files read per directory: cyclog -n keeps at most this many */
#define SUMMARY_ROTATED_MAX 100000
/* bytes read from a file at once */
#define SUMMARY_READ 65536
/* a line, stamp included: cyclog's default -l (8192) plus its stamp and
   cut marker fits; longer lines are cut here and counted */
#define SUMMARY_LINE_MAX 16384
/* delivery numbers followed: send runs at most 10000 + 1000 deliveries
   in its fast lanes and as many in its slow ones, and a number is the
   lowest free one, so 32768 covers every configuration */
#define SUMMARY_DELIVERY_MAX 32768
/* RFC 5321 4.5.3.1.2: a domain is at most 255 octets */
#define SUMMARY_DOMAIN_MAX 255
/* failing destinations counted; beyond, the least failing makes room */
#define SUMMARY_DEST_MAX 1024
/* bytes of a destination's last error text shown */
#define SUMMARY_TEXT_MAX 400
/* destinations printed */
#define SUMMARY_TOP 10
/* intervals kept (a week of minutes); beyond, the width doubles */
#define SUMMARY_SERIES_MAX 10080
#define SUMMARY_WIDTH_DEFAULT 60
/* -w: a second to a week */
#define SUMMARY_WIDTH_MAX 604800
/* delays above this (about 34 years, in ms) count as this */
#define SUMMARY_DELAY_CAP ((uint64_t)1 << 40)
/* histogram: exact below 2^HIST_EXACT_BITS ms, then 2^HIST_SUB_BITS
   buckets per doubling, each at most 1/64 of its values wide */
#define HIST_EXACT_BITS 7
#define HIST_SUB_BITS 6
#define HIST_BUCKETS ((1u << HIST_EXACT_BITS) + (40 - HIST_EXACT_BITS + 1) * (1u << HIST_SUB_BITS))

#define NS 1000000000ULL

struct summary
{
  uint64_t lines, cut, unstamped, files, gone ;
  uint64_t first, last ;        /* stamps of the first and last line, ns since 1970 UTC */
  uint64_t connections, received, received_rcpts, rejected, refused ;
  uint64_t denied ;             /* smtpd-listen's and tcpserver's deny lines */
  int64_t busy ;                /* the highest busy count of their status lines, -1: none */
  uint64_t queued, queued_bounces, loaded, ended ;
  uint64_t starts, delivered, deferred, failed, expired, unmatched, untracked ;
  uint64_t bounces, bounces_dropped, bounce_deferrals, restarts ;
} ;
extern struct summary logsum_totals ;

/* summary_source.c: one log directory, read line by line in order */
struct source
{
  char const *dir ;
  tain *rot ;                   /* rotated files' names, oldest first */
  size_t nrot, next ;
  int fd ;                      /* the file being read, -1 between files */
  int curfd ;                   /* current, opened first */
  dev_t curdev ;
  ino_t curino ;
  char buf[SUMMARY_READ] ;
  size_t pos, len ;
  char line[SUMMARY_LINE_MAX + 1] ;
  size_t llen ;
  uint64_t t ;                  /* the line's stamp */
  int have ;                    /* line holds a stamped line */
} ;
extern void logsum_source_open (struct source *src, char const *dir) ;
extern void logsum_source_next (struct source *src) ;

/* summary_line.c: one stamped line, NUL-terminated, stamp removed */
extern void logsum_summary_line (uint64_t t, char const *s) ;

/* summary_hist.c: delays of successful deliveries, in ms */
extern void logsum_hist_add (uint64_t ms) ;
extern uint64_t logsum_hist_count (void) ;
extern uint64_t logsum_hist_max (void) ;
extern uint64_t logsum_hist_percentile (unsigned int p) ;

/* summary_dest.c: failing destinations */
struct dest
{
  uint64_t failures, deferrals ;
  uint64_t over ;               /* the evicted entry's total it took over */
  int next ;                    /* hash chain */
  unsigned char dlen ;
  unsigned short tlen ;
  char domain[SUMMARY_DOMAIN_MAX] ;
  char text[SUMMARY_TEXT_MAX] ;
} ;
extern void logsum_dest_add (char const *domain, size_t dlen, int failure, char const *text, size_t tlen) ;
/* the n most failing, most first, into top; returns how many */
extern unsigned int logsum_dest_top (struct dest const **top, unsigned int n) ;
extern unsigned int logsum_dest_count (void) ;
extern uint64_t logsum_dest_evicted (void) ;

/* summary_series.c: per interval counts */
struct interval
{
  uint64_t delivered, deferred, failed ;
  int64_t queue ;               /* the most messages held, -1: no status line */
} ;
extern void logsum_series_init (uint64_t width) ;
extern struct interval *logsum_series_at (uint64_t t) ;
extern struct interval const *logsum_series_get (size_t *n, uint64_t *start, uint64_t *width) ;
extern uint64_t logsum_series_asked (void) ;

/* summary_report.c, summary_svg.c */
extern void logsum_report_text (void) ;
extern void logsum_report_svg (char const *file) ;

/* summary_fmt.c: output helpers */
extern size_t logsum_fmt_time (char *s, uint64_t sec) ;   /* "YYYY-MM-DD HH:MM:SS", UTC */
#define FMT_TIME 20
extern size_t logsum_fmt_fixed (char *s, uint64_t num, uint64_t den, unsigned int decimals) ;
#define FMT_FIXED 32
extern int logsum_put_pad (stralloc *sa, char const *s, size_t len, size_t width, int right) ;
extern int logsum_put_u64 (stralloc *sa, uint64_t u, size_t width) ;

#endif
