#include <stdlib.h>
#include <string.h>
#include <skalibs/genalloc.h>
#include <skalibs/types.h>
#include "qread.h"
#include "qstats.h"

static char const *const rownames[QR_N] =
  { "unsorted", "waiting fast", "waiting slow", "done", "failed", "bounced" } ;
static char const *const colnames[QC_N] = { "local", "remote", "total" } ;
static char const *const agenames[1 + QSTATS_AGES] =
  { "T", "5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+" } ;

static int pad (stralloc *out, size_t have, size_t width)
{
  while (have++ < width) if (!stralloc_catb(out, " ", 1)) return 0 ;
  return 1 ;
}

/* s in a column of width, to the left or to the right */
static int cell (stralloc *out, char const *s, size_t len, size_t width, int right)
{
  if (right && !pad(out, len, width)) return 0 ;
  if (!stralloc_catb(out, s, len)) return 0 ;
  return right || pad(out, len, width) ;
}

static int num (stralloc *out, unsigned long u, size_t width)
{
  char fmt[ULONG_FMT] ;
  return stralloc_catb(out, " ", 1) && cell(out, fmt, ulong_fmt(fmt, u), width, 1) ;
}

static size_t digits (unsigned long u)
{
  char fmt[ULONG_FMT] ;
  return ulong_fmt(fmt, u) ;
}

static int counts (stralloc *out, struct qstats_counts const *c)
{
  size_t w[QC_N], lw = strlen("waiting fast") ;
  unsigned long total[QC_N] = { 0, 0, 0 } ;
  char fmt[ULONG_FMT] ;
  for (unsigned int j = 0 ; j < QC_N ; j++)
  {
    for (unsigned int i = 0 ; i < QR_N ; i++) total[j] += c->rcpts[i][j] ;
    w[j] = strlen(colnames[j]) ;
    if (digits(total[j]) > w[j]) w[j] = digits(total[j]) ;
  }
  if (!stralloc_cats(out, "messages: ") || !stralloc_catb(out, fmt, ulong_fmt(fmt, c->msgs))
   || !stralloc_cats(out, " (unsorted: ") || !stralloc_catb(out, fmt, ulong_fmt(fmt, c->unsorted))
   || !stralloc_cats(out, ")\n") || !cell(out, "recipients", 10, lw, 0)) return 0 ;
  for (unsigned int j = 0 ; j < QC_N ; j++)
    if (!stralloc_catb(out, " ", 1) || !cell(out, colnames[j], strlen(colnames[j]), w[j], 1)) return 0 ;
  if (!stralloc_catb(out, "\n", 1)) return 0 ;
  for (unsigned int i = 0 ; i <= QR_N ; i++)
  {
    unsigned long const *v = i < QR_N ? c->rcpts[i] : total ;
    char const *name = i < QR_N ? rownames[i] : "total" ;
    if (!cell(out, name, strlen(name), lw, 0)) return 0 ;
    for (unsigned int j = 0 ; j < QC_N ; j++) if (!num(out, v[j], w[j])) return 0 ;
    if (!stralloc_catb(out, "\n", 1)) return 0 ;
  }
  return 1 ;
}

static char const *names ;  /* the pool, for the sort */

/* most waiting first, then by name */
static int bytotal (void const *a, void const *b)
{
  struct qstats_dom const *x = a, *y = b ;
  if (x->total != y->total) return x->total < y->total ? 1 : -1 ;
  return strcmp(names + x->name, names + y->name) ;
}

static int row (stralloc *out, stralloc *esc, size_t lw, size_t const *w, unsigned long total, unsigned long const *ages)
{
  if (!cell(out, esc->s, esc->len, lw, 1) || !num(out, total, w[0])) return 0 ;
  for (unsigned int j = 0 ; j < QSTATS_AGES ; j++) if (!num(out, ages[j], w[1 + j])) return 0 ;
  return stralloc_catb(out, "\n", 1) ;
}

static int shape (stralloc *out, unsigned int top)
{
  size_t n, lw = 5, w[1 + QSTATS_AGES] ;
  struct qstats_dom *d = qstats_dom_all(&n, &names) ;
  struct qstats_dom sum = { .total = 0 } ;
  stralloc esc = STRALLOC_ZERO ;
  int ok = 0 ;
  memset(sum.ages, 0, sizeof sum.ages) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    sum.total += d[i].total ;
    for (unsigned int j = 0 ; j < QSTATS_AGES ; j++) sum.ages[j] += d[i].ages[j] ;
  }
  qsort(d, n, sizeof *d, &bytotal) ;
  if (n > top) n = top ;
  /* the widest domain shown, escaped, sets the first column */
  for (size_t i = 0 ; i < n ; i++)
  {
    esc.len = 0 ;
    if (!qread_catesc(&esc, names + d[i].name, strlen(names + d[i].name))) goto end ;
    if (esc.len > lw) lw = esc.len ;
  }
  /* TOTAL holds the largest number of each column */
  w[0] = digits(sum.total) ;
  for (unsigned int j = 0 ; j < QSTATS_AGES ; j++) w[1 + j] = digits(sum.ages[j]) ;
  for (unsigned int j = 0 ; j <= QSTATS_AGES ; j++)
    if (strlen(agenames[j]) > w[j]) w[j] = strlen(agenames[j]) ;
  if (!pad(out, 0, lw)) goto end ;
  for (unsigned int j = 0 ; j <= QSTATS_AGES ; j++)
    if (!stralloc_catb(out, " ", 1) || !cell(out, agenames[j], strlen(agenames[j]), w[j], 1)) goto end ;
  if (!stralloc_catb(out, "\n", 1)) goto end ;
  esc.len = 0 ;
  if (!stralloc_cats(&esc, "TOTAL") || !row(out, &esc, lw, w, sum.total, sum.ages)) goto end ;
  for (size_t i = 0 ; i < n ; i++)
  {
    esc.len = 0 ;
    if (!qread_catesc(&esc, names + d[i].name, strlen(names + d[i].name))
     || !row(out, &esc, lw, w, d[i].total, d[i].ages)) goto end ;
  }
  ok = 1 ;
 end:
  stralloc_free(&esc) ;
  return ok ;
}

int qstats_print (stralloc *out, struct qstats_counts const *c, unsigned int top)
{
  return counts(out, c) && stralloc_catb(out, "\n", 1) && shape(out, top) ;
}
