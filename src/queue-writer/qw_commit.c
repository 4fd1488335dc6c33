#include <skalibs/buffer.h>
#include <skalibs/types.h>
#include "qexit.h"
#include "queue-writer.h"

static qwrite_msg batch[QW_CLIENTS_MAX] ;
static unsigned long rounds, msgs, failed, maxgroup, fsyncs ;
unsigned int qw_sub = 0 ;

/* One round: every client whose envelope is whole. Each gets its answer
   only after qwrite_commit made its message durable (or gave it up). */
void qw_commit (qw_client *c, unsigned int n, unsigned int par)
{
  unsigned int k = 0 ;
  for (unsigned int i = 0 ; i < n ; i++)
    if (c[i].fd >= 0 && c[i].state == Q_READY) batch[k++] = c[i].m ;
  if (!k) return ;
  fsyncs += qwrite_commit(batch, k, par) ;
  qw_sub = (qw_sub + 1) % auto_split ;
  rounds++ ; msgs += k ;
  if (k > maxgroup) maxgroup = k ;
  k = 0 ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    if (c[i].fd < 0 || c[i].state != Q_READY) continue ;
    c[i].m = batch[k++] ;
    if (c[i].m.code) { failed++ ; qw_fail(c + i, c[i].m.code) ; }
    else qw_answer(c + i, 0) ;
  }
}

/* "stats rounds R msgs M failed F maxgroup G fsyncs S", totals since start */
void qw_stats (void)
{
  char fmt[ULONG_FMT] ;
  buffer_puts(buffer_1, "stats rounds ") ;
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, rounds)) ;
  buffer_puts(buffer_1, " msgs ") ;
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, msgs)) ;
  buffer_puts(buffer_1, " failed ") ;
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, failed)) ;
  buffer_puts(buffer_1, " maxgroup ") ;
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, maxgroup)) ;
  buffer_puts(buffer_1, " fsyncs ") ;
  buffer_put(buffer_1, fmt, ulong_fmt(fmt, fsyncs)) ;
  buffer_putsflush(buffer_1, "\n") ;
}
