/* c-ares' sockets through iopause, written once for every program that
   resolves (remote: queries of a phase at once; SPF: one at a time) */

#include <errno.h>
#include <ares.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include "dns.h"

void dns_run (ares_channel channel, unsigned int const *pending, tain const *deadline)
{
  while (*pending)
  {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM] ;
    iopause_fd x[ARES_GETSOCK_MAXNUM] ;
    unsigned int k = 0 ;
    struct timeval tv, *tvp ;
    tain d = *deadline, t ;
    int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM), r ;
    for (unsigned int i = 0 ; i < ARES_GETSOCK_MAXNUM ; i++)
    {
      short ev = (ARES_GETSOCK_READABLE(bits, i) ? IOPAUSE_READ : 0) | (ARES_GETSOCK_WRITABLE(bits, i) ? IOPAUSE_WRITE : 0) ;
      if (ev) x[k++] = (iopause_fd){ .fd = socks[i], .events = ev } ;
    }
    tvp = ares_timeout(channel, 0, &tv) ;
    if (tvp)
    {
      tain_from_millisecs(&t, tvp->tv_sec * 1000 + tvp->tv_usec / 1000 + 1) ;
      tain_add_g(&t, &t) ;
      if (tain_less(&t, &d)) d = t ;
    }
    r = iopause_g(x, k, &d) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      break ;
    }
    if (!r)
    {
      if (!tain_less(&STAMP, deadline)) break ;
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD) ;
      continue ;
    }
    for (unsigned int i = 0 ; i < k ; i++)
      if (x[i].revents)
        ares_process_fd(channel, x[i].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT) ? x[i].fd : ARES_SOCKET_BAD,
                                 x[i].revents & IOPAUSE_WRITE ? x[i].fd : ARES_SOCKET_BAD) ;
  }
}
