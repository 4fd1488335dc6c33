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
  if (!put_u64(&out, x, 0)) strerr_diefu1sys(111, "allocate") ;
}

static void col (char const *x, size_t len, size_t width, int right)
{
  if (!put_pad(&out, x, len, width, right)) strerr_diefu1sys(111, "allocate") ;
}

static void ucol (uint64_t x, size_t width)
{
  if (!put_u64(&out, x, width)) strerr_diefu1sys(111, "allocate") ;
}

static void secs (uint64_t ms)
{
  char fmt[FMT_FIXED] ;
  col(fmt, fmt_fixed(fmt, ms, 1000, 3), 0, 0) ;
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
  if (sum.lines)
  {
    col(t, fmt_time(t, sum.first / NS), 0, 0) ; s(" ") ;
    col(t, fmt_time(t, sum.last / NS), 0, 0) ; s(" UTC") ;
  }
  else s("none") ;
  end() ;
  name("lines") ; u(sum.lines) ; s(" in ") ; u(sum.files) ; s(" files, ") ;
  u(sum.cut) ; s(" cut, ") ; u(sum.unstamped) ; s(" unstamped, ") ; u(sum.gone) ; s(" files gone") ; end() ;
  name("connections") ; u(sum.connections) ; s(", ") ; u(sum.denied) ; s(" denied, at most ") ;
  if (sum.busy < 0) s("-") ; else u((uint64_t)sum.busy) ;
  s(" at once") ; end() ;
  name("received") ; u(sum.received) ; s(" messages, ") ; u(sum.received_rcpts) ; s(" recipients, ") ;
  u(sum.rejected) ; s(" rejected, ") ; u(sum.refused) ; s(" recipients refused") ; end() ;
  name("queued") ; u(sum.queued) ; s(" messages, ") ; u(sum.queued_bounces) ; s(" of them bounce notices, ") ;
  u(sum.loaded) ; s(" loaded at a start") ; end() ;
  name("restarts") ; u(sum.restarts) ; end() ;
  name("deliveries") ; u(sum.starts) ; s(" started, ") ; u(sum.untracked) ; s(" untracked, ") ;
  u(sum.unmatched) ; s(" results unmatched") ; end() ;
  name("delivered") ; u(sum.delivered) ; end() ;
  name("deferred") ; u(sum.deferred) ; end() ;
  name("failed") ; u(sum.failed) ; s(", ") ; u(sum.expired) ; s(" of them after the queue lifetime") ; end() ;
  name("bounced") ; u(sum.bounces) ; s(" notices queued, ") ; u(sum.bounce_deferrals) ; s(" deferred") ; end() ;
  name("ended") ; u(sum.ended) ; s(" messages") ; end() ;
  name("delay") ; u(hist_count()) ; s(" deliveries") ;
  if (hist_count())
  {
    s(": p50 ") ; secs(hist_percentile(50)) ;
    s(" p90 ") ; secs(hist_percentile(90)) ;
    s(" p99 ") ; secs(hist_percentile(99)) ;
    s(" max ") ; secs(hist_max()) ; s(" seconds") ;
  }
  end() ;
}

static void intervals (void)
{
  size_t n ;
  uint64_t start, w ;
  struct interval const *iv = series_get(&n, &start, &w) ;
  if (!sum.lines) return ;
  end() ;
  name("interval") ; u(w) ; s(" seconds, UTC") ;
  if (w != series_asked()) { s(" (-w ") ; u(series_asked()) ; s(" doubled: more than 10080 intervals)") ; }
  end() ;
  s("start                delivered  per-second  deferred  failed  queue") ; end() ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char t[FMT_TIME > FMT_FIXED ? FMT_TIME : FMT_FIXED] ;
    col(t, fmt_time(t, start + i * w), 19, 0) ;
    ucol(iv[i].delivered, 11) ;
    col(t, fmt_fixed(t, iv[i].delivered, w, 2), 12, 1) ;
    ucol(iv[i].deferred, 10) ;
    ucol(iv[i].failed, 8) ;
    if (iv[i].queue >= 0) ucol((uint64_t)iv[i].queue, 7) ; else col("-", 1, 7, 1) ;
    end() ;
  }
}

static void destinations (void)
{
  struct dest const *top[SUMMARY_TOP] ;
  unsigned int n = dest_top(top, SUMMARY_TOP) ;
  size_t dw = 6 ;
  end() ;
  name("failing") ; u(dest_count()) ; s(" destinations, ") ; u(dest_evicted()) ; s(" evicted") ; end() ;
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

void report_text (void)
{
  counts() ;
  intervals() ;
  destinations() ;
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
}
