#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "log-summary.h"

/* The text report on fd 1, in the format log-summary(8) documents:
   "name figure ..." lines, the interval table, the destinations. */

static stralloc out = STRALLOC_ZERO ;

static void s (char const *x)
{
  if (!stralloc_cats(&out, x)) strerr_diefu1sys(111, "allocate") ;
}

static void u (uint64_t x)
{
  if (!logsum_put_u64(&out, x, 0)) strerr_diefu1sys(111, "allocate") ;
}

static void col (char const *x, size_t len, size_t width, int right)
{
  if (!logsum_put_pad(&out, x, len, width, right)) strerr_diefu1sys(111, "allocate") ;
}

static void ucol (uint64_t x, size_t width)
{
  if (!logsum_put_u64(&out, x, width)) strerr_diefu1sys(111, "allocate") ;
}

static void secs (uint64_t ms)
{
  char fmt[FMT_FIXED] ;
  col(fmt, logsum_fmt_fixed(fmt, ms, 1000, 3), 0, 0) ;
}

static void name (char const *x)
{
  col(x, strlen(x), 14, 0) ;
}

static void end (void)
{
  s("\n") ;
  if (buffer_put(buffer_1, out.s, out.len) < (ssize_t)out.len) strerr_diefu1sys(111, "write to stdout") ;
  out.len = 0 ;
}

static void counts (void)
{
  char t[FMT_TIME] ;
  name("period") ;
  if (logsum_totals.lines)
  {
    col(t, logsum_fmt_time(t, logsum_totals.first / NS), 0, 0) ; s(" ") ;
    col(t, logsum_fmt_time(t, logsum_totals.last / NS), 0, 0) ; s(" UTC") ;
  }
  else s("none") ;
  end() ;
  name("lines") ; u(logsum_totals.lines) ; s(" in ") ; u(logsum_totals.files) ; s(" files, ") ;
  u(logsum_totals.cut) ; s(" cut, ") ; u(logsum_totals.unstamped) ; s(" unstamped, ") ; u(logsum_totals.gone) ; s(" files gone") ; end() ;
  name("connections") ; u(logsum_totals.connections) ; s(", ") ; u(logsum_totals.denied) ; s(" denied, at most ") ;
  if (logsum_totals.busy < 0) s("-") ; else u((uint64_t)logsum_totals.busy) ;
  s(" at once") ; end() ;
  name("received") ; u(logsum_totals.received) ; s(" messages, ") ; u(logsum_totals.received_rcpts) ; s(" recipients, ") ;
  u(logsum_totals.rejected) ; s(" rejected, ") ; u(logsum_totals.refused) ; s(" recipients refused") ; end() ;
  name("queued") ; u(logsum_totals.queued) ; s(" messages, ") ; u(logsum_totals.queued_bounces) ; s(" of them bounce notices, ") ;
  u(logsum_totals.loaded) ; s(" loaded at a start") ; end() ;
  name("restarts") ; u(logsum_totals.restarts) ; end() ;
  name("deliveries") ; u(logsum_totals.starts) ; s(" started, ") ; u(logsum_totals.untracked) ; s(" untracked, ") ;
  u(logsum_totals.unmatched) ; s(" results unmatched") ; end() ;
  name("delivered") ; u(logsum_totals.delivered) ; end() ;
  name("deferred") ; u(logsum_totals.deferred) ; end() ;
  name("failed") ; u(logsum_totals.failed) ; s(", ") ; u(logsum_totals.expired) ; s(" of them after the queue lifetime") ; end() ;
  name("bounced") ; u(logsum_totals.bounces) ; s(" notices queued, ") ; u(logsum_totals.bounces_dropped) ; s(" dropped, ") ;
  u(logsum_totals.bounce_deferrals) ; s(" deferred") ; end() ;
  name("ended") ; u(logsum_totals.ended) ; s(" messages") ; end() ;
  name("delay") ; u(logsum_hist_count()) ; s(" deliveries") ;
  if (logsum_hist_count())
  {
    s(": p50 ") ; secs(logsum_hist_percentile(50)) ;
    s(" p90 ") ; secs(logsum_hist_percentile(90)) ;
    s(" p99 ") ; secs(logsum_hist_percentile(99)) ;
    s(" max ") ; secs(logsum_hist_max()) ; s(" seconds") ;
  }
  end() ;
}

static void intervals (void)
{
  size_t n ;
  uint64_t start, w ;
  struct interval const *iv = logsum_series_get(&n, &start, &w) ;
  if (!logsum_totals.lines) return ;
  end() ;
  name("interval") ; u(w) ; s(" seconds, UTC") ;
  if (w != logsum_series_asked()) { s(" (-w ") ; u(logsum_series_asked()) ; s(" doubled: more than 10080 intervals)") ; }
  end() ;
  s("start                delivered  per-second  deferred  failed  queue") ; end() ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char t[FMT_TIME > FMT_FIXED ? FMT_TIME : FMT_FIXED] ;
    col(t, logsum_fmt_time(t, start + i * w), 19, 0) ;
    ucol(iv[i].delivered, 11) ;
    col(t, logsum_fmt_fixed(t, iv[i].delivered, w, 2), 12, 1) ;
    ucol(iv[i].deferred, 10) ;
    ucol(iv[i].failed, 8) ;
    if (iv[i].queue >= 0) ucol((uint64_t)iv[i].queue, 7) ; else col("-", 1, 7, 1) ;
    end() ;
  }
}

static void destinations (void)
{
  struct dest const *top[SUMMARY_TOP] ;
  unsigned int n = logsum_dest_top(top, SUMMARY_TOP) ;
  size_t dw = 6 ;
  end() ;
  name("failing") ; u(logsum_dest_count()) ; s(" destinations, ") ; u(logsum_dest_evicted()) ; s(" evicted") ; end() ;
  if (!n) return ;
  for (unsigned int i = 0 ; i < n ; i++) if (top[i]->dlen > dw) dw = top[i]->dlen ;
  s("failures  deferrals  ") ; col("domain", 6, dw, 0) ; s("  last error") ; end() ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    col(top[i]->over ? "~" : " ", 1, 0, 0) ;
    ucol(top[i]->failures, 7) ;
    ucol(top[i]->deferrals, 11) ;
    s("  ") ;
    col(top[i]->domain, top[i]->dlen, dw, 0) ;
    s("  ") ;
    col(top[i]->text, top[i]->tlen, 0, 0) ;
    end() ;
  }
}

void logsum_report_text (void)
{
  counts() ;
  intervals() ;
  destinations() ;
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
}
