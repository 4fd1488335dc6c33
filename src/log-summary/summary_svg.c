#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "fsx.h"
#include "log-summary.h"

/* --svg: two panels over one time axis, deliveries per minute above,
   messages in the queue below (send's "status: ... msgs N"), one point
   per interval. Only our own words and numbers go in: nothing needs
   XML escaping. Written to FILE.tmp.PID, fsynced, renamed over FILE,
   so a reader never sees half a picture. */

#define W 960
#define H 620
#define LEFT 80
#define RIGHT 30
#define PW (W - LEFT - RIGHT)
#define PH 200
#define TOP1 60
#define TOP2 (TOP1 + PH + 90)
/* beyond this many points, dots would hide the line */
#define DOTS_MAX 200
#define BLUE "#1f6fb4"
#define RED "#c0392b"

static stralloc svg = STRALLOC_ZERO ;

static void s (char const *x)
{
  if (!stralloc_cats(&svg, x)) strerr_diefu1sys(111, "allocate") ;
}

static void u (uint64_t x)
{
  if (!logsum_put_u64(&svg, x, 0)) strerr_diefu1sys(111, "allocate") ;
}

/* a coordinate in tenths of a pixel */
static void c10 (uint64_t x)
{
  char fmt[FMT_FIXED] ;
  if (!stralloc_catb(&svg, fmt, logsum_fmt_fixed(fmt, x, 10, 1))) strerr_diefu1sys(111, "allocate") ;
}

/* 1, 2 or 5 times a power of ten: at most 5 steps up to m */
static uint64_t tick_step (uint64_t m)
{
  static unsigned int const mant[3] = { 1, 2, 5 } ;
  for (uint64_t p = 1 ; ; p *= 10)
    for (unsigned int i = 0 ; i < 3 ; i++)
      if (mant[i] * p * 5 >= m) return mant[i] * p ;
}

static void text (uint64_t x, uint64_t y, char const *anchor, char const *t, size_t len)
{
  s("<text x=\"") ; u(x) ; s("\" y=\"") ; u(y) ; s("\" text-anchor=\"") ; s(anchor) ; s("\">") ;
  if (!stralloc_catb(&svg, t, len)) strerr_diefu1sys(111, "allocate") ;
  s("</text>\n") ;
}

/* the time axis under a panel: ticks at round times, at most 9 */
static void xaxis (uint64_t top, uint64_t start, uint64_t span)
{
  static uint64_t const steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
    10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000, 7776000, 31536000 } ;
  uint64_t step = steps[sizeof steps / sizeof *steps - 1] ;
  for (unsigned int i = 0 ; i < sizeof steps / sizeof *steps ; i++)
    if (span / steps[i] <= 8) { step = steps[i] ; break ; }
  for (uint64_t t = (start + step - 1) / step * step ; t <= start + span ; t += step)
  {
    char f[FMT_TIME] ;
    uint64_t x10 = LEFT * 10 + (t - start) * PW * 10 / span ;
    logsum_fmt_time(f, t) ;
    s("<line class=\"tick\" x1=\"") ; c10(x10) ; s("\" x2=\"") ; c10(x10) ;
    s("\" y1=\"") ; u(top) ; s("\" y2=\"") ; u(top + PH + 5) ; s("\" stroke=\"#ddd\"/>\n") ;
    /* a day's start shows its date, so that a long log reads */
    if (step >= 86400 || (step >= 60 && !(t % 86400))) text(x10 / 10, top + PH + 20, "middle", f + 5, 5) ;
    else if (step >= 60) text(x10 / 10, top + PH + 20, "middle", f + 11, 5) ;
    else text(x10 / 10, top + PH + 20, "middle", f + 11, 8) ;
  }
}

/* drawn after the grid, so that the grid does not cover it */
static void frame (uint64_t top)
{
  s("<rect x=\"") ; u(LEFT) ; s("\" y=\"") ; u(top) ; s("\" width=\"") ; u(PW) ;
  s("\" height=\"") ; u(PH) ; s("\" fill=\"none\" stroke=\"#000\"/>\n") ;
}

/* a panel: y ticks and title; returns the top of the y scale */
static uint64_t panel (uint64_t top, uint64_t max, char const *title)
{
  uint64_t step = tick_step(max), ymax = (max + step - 1) / step * step ;
  if (!ymax) ymax = step ;
  for (uint64_t v = 0 ; v <= ymax ; v += step)
  {
    char f[UINT64_FMT] ;
    uint64_t y10 = (top + PH) * 10 - v * PH * 10 / ymax ;
    s("<line class=\"tick\" x1=\"") ; u(LEFT - 5) ; s("\" x2=\"") ; u(LEFT + PW) ;
    s("\" y1=\"") ; c10(y10) ; s("\" y2=\"") ; c10(y10) ; s("\" stroke=\"#ddd\"/>\n") ;
    text(LEFT - 8, y10 / 10 + 4, "end", f, uint64_fmt(f, v)) ;
  }
  s("<text x=\"20\" y=\"") ; u(top + PH / 2) ; s("\" text-anchor=\"middle\" transform=\"rotate(-90 20 ") ;
  u(top + PH / 2) ; s(")\">") ; s(title) ; s("</text>\n") ;
  return ymax ;
}

/* a dot on each point, so that one interval alone still shows */
static void marker (char const *id, char const *colour)
{
  s("<marker id=\"dot-") ; s(id) ; s("\" viewBox=\"0 0 4 4\" refX=\"2\" refY=\"2\" markerWidth=\"4\" markerHeight=\"4\">") ;
  s("<circle cx=\"2\" cy=\"2\" r=\"2\" fill=\"") ; s(colour) ; s("\"/></marker>") ;
}

static void polyline_start (char const *id, char const *colour, size_t n)
{
  s("<polyline id=\"") ; s(id) ; s("\" class=\"series\" fill=\"none\" stroke=\"") ; s(colour) ;
  s("\" stroke-width=\"2\"") ;
  if (n <= DOTS_MAX)
  {
    s(" marker-start=\"url(#dot-") ; s(id) ; s(")\" marker-mid=\"url(#dot-") ; s(id) ;
    s(")\" marker-end=\"url(#dot-") ; s(id) ; s(")\"") ;
  }
  s(" points=\"") ;
}

static void point (size_t i, size_t n, uint64_t y10, int first)
{
  if (!first) s(" ") ;
  c10(LEFT * 10 + (2 * i + 1) * PW * 10 / (2 * n)) ; s(",") ; c10(y10) ;
}

static void plot (struct interval const *iv, size_t n, uint64_t start, uint64_t w)
{
  uint64_t dmax = 0, qmax = 0, ymax ;
  int64_t q = -1 ;
  int first = 1 ;
  char f[FMT_TIME] ;
  for (size_t i = 0 ; i < n ; i++)
  {
    uint64_t perminute = (iv[i].delivered * 60 + w - 1) / w ;
    if (perminute > dmax) dmax = perminute ;
    if (iv[i].queue > (int64_t)qmax) qmax = (uint64_t)iv[i].queue ;
  }
  s("<g id=\"deliveries-panel\">\n") ;
  ymax = panel(TOP1, dmax, "deliveries per minute") ;
  xaxis(TOP1, start, n * w) ;
  frame(TOP1) ;
  polyline_start("deliveries", BLUE, n) ;
  for (size_t i = 0 ; i < n ; i++)
    point(i, n, (TOP1 + PH) * 10 - iv[i].delivered * 60 * PH * 10 / (w * ymax), !i) ;
  s("\"/>\n</g>\n<g id=\"queue-panel\">\n") ;
  ymax = panel(TOP2, qmax, "messages in the queue") ;
  xaxis(TOP2, start, n * w) ;
  frame(TOP2) ;
  polyline_start("queue", RED, n) ;
  /* an interval without a status line repeats the last figure; none
     before the first */
  for (size_t i = 0 ; i < n ; i++)
  {
    if (iv[i].queue >= 0) q = iv[i].queue ;
    if (q < 0) continue ;
    point(i, n, (TOP2 + PH) * 10 - (uint64_t)q * PH * 10 / ymax, first) ;
    first = 0 ;
  }
  s("\"/>\n") ;
  if (first) text(LEFT + PW / 2, TOP2 + PH / 2, "middle", "no status line in the log", 25) ;
  s("</g>\n") ;
  s("<text x=\"") ; u(LEFT + PW / 2) ; s("\" y=\"") ; u(H - 15) ;
  s("\" text-anchor=\"middle\">time (UTC), one point per ") ; u(w) ; s(" seconds from ") ;
  if (!stralloc_catb(&svg, f, logsum_fmt_time(f, start))) strerr_diefu1sys(111, "allocate") ;
  s("</text>\n") ;
}

static void build (void)
{
  size_t n ;
  uint64_t start, w ;
  struct interval const *iv = logsum_series_get(&n, &start, &w) ;
  char f[FMT_TIME] ;
  s("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"") ;
  u(W) ; s("\" height=\"") ; u(H) ; s("\" viewBox=\"0 0 ") ; u(W) ; s(" ") ; u(H) ;
  s("\" font-family=\"sans-serif\" font-size=\"12\">\n<title>postern log summary</title>\n") ;
  s("<defs>") ; marker("deliveries", BLUE) ; marker("queue", RED) ; s("</defs>\n") ;
  s("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n") ;
  s("<text x=\"") ; u(LEFT) ; s("\" y=\"30\" font-size=\"16\">postern: deliveries and queue") ;
  if (logsum_totals.lines)
  {
    s(", ") ; if (!stralloc_catb(&svg, f, logsum_fmt_time(f, logsum_totals.first / NS))) strerr_diefu1sys(111, "allocate") ;
    s(" to ") ; if (!stralloc_catb(&svg, f, logsum_fmt_time(f, logsum_totals.last / NS))) strerr_diefu1sys(111, "allocate") ;
    s(" UTC") ;
  }
  s("</text>\n") ;
  if (n) plot(iv, n, start, w) ;
  else text(W / 2, H / 2, "middle", "no log lines", 12) ;
  s("</svg>\n") ;
}

void logsum_report_svg (char const *file)
{
  size_t len = strlen(file) ;
  char tmp[len + 6 + PID_FMT] ;
  int fd ;
  build() ;
  memcpy(tmp, file, len) ;
  memcpy(tmp + len, ".tmp.", 5) ;
  tmp[len + 5 + pid_fmt(tmp + len + 5, getpid())] = 0 ;
  fd = open3(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) ;
  if (fd < 0) strerr_diefu2sys(111, "create ", tmp) ;
  /* fsync before the rename: after a crash FILE is the old picture or
     the whole new one, never an empty file */
  if (allwrite(fd, svg.s, svg.len) < svg.len || fsync(fd) < 0 || close(fd) < 0)
  {
    int e = errno ;
    unlink(tmp) ;
    errno = e ;
    strerr_diefu2sys(111, "write ", tmp) ;
  }
  if (fsx_rename(tmp, file) < 0)
  {
    int e = errno ;
    unlink(tmp) ;
    errno = e ;
    strerr_diefu4sys(111, "rename ", tmp, " to ", file) ;
  }
}
