/* The limits a client meets before it gets a worker: sessions from its
   address, its IPv4 /24 and its IPv6 /64, counted over the busy slots
   of the worker table (no other table: memory stays the worker
   table's), and the 421 a refused client reads before we close. */

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "listen.h"

/* bytes of a refused client's early talk read before we close, so that
   the close sends a FIN after our reply, not a reset that could discard
   it; a client sending more than this meanwhile may miss it */
#define DRAIN_MAX 4096

void listen_client_set (struct listen_client *c, char const *ip)
{
  struct in6_addr a ;
  memset(c, 0, sizeof *c) ;
  if (!strchr(ip, ':')) inet_pton(AF_INET, ip, c->ip) ;
  else if (inet_pton(AF_INET6, ip, &a) == 1)
  {
    /* an IPv4-mapped client is counted as the IPv4 client it is */
    if (IN6_IS_ADDR_V4MAPPED(&a)) memcpy(c->ip, a.s6_addr + 12, 4) ;
    else
    {
      memcpy(c->ip, a.s6_addr, 16) ;
      c->v6 = 1 ;
    }
  }
}

char const *listen_over (struct listen_opts const *o, wpool const *p, struct listen_client const *tab,
  struct listen_client const *c, unsigned int *limit)
{
  unsigned int same = 0, net = 0 ;
  unsigned int const netmax = c->v6 ? o->per64 : o->per24 ;
  for (unsigned int i = 0 ; i < p->max ; i++)
  {
    if (!p->w[i].pid || !p->w[i].busy || !tab[i].counted || tab[i].v6 != c->v6) continue ;
    /* a /24 is 3 bytes, a /64 8 */
    if (!memcmp(tab[i].ip, c->ip, c->v6 ? 8 : 3))
    {
      net++ ;
      if (!memcmp(tab[i].ip, c->ip, c->v6 ? 16 : 4)) same++ ;
    }
  }
  if (o->perip && same >= o->perip) return (*limit = o->perip, "address") ;
  if (netmax && net >= netmax) return (*limit = netmax, c->v6 ? "/64" : "/24") ;
  return 0 ;
}

void listen_refuse (int fd, char const *host, char const *status, char const *text)
{
  char buf[LISTEN_NAME_MAX + 128] ;
  size_t hn = strlen(host), sn = strlen(status), tn = strlen(text), n = 0 ;
  if (hn > LISTEN_NAME_MAX) hn = LISTEN_NAME_MAX ;
  if (tn > 64) tn = 64 ;
  memcpy(buf, "421 ", 4) ; n = 4 ;
  memcpy(buf + n, status, sn) ; n += sn ;
  buf[n++] = ' ' ;
  memcpy(buf + n, host, hn) ; n += hn ;
  buf[n++] = ' ' ;
  memcpy(buf + n, text, tn) ; n += tn ;
  buf[n++] = '\r' ; buf[n++] = '\n' ;
  /* a fresh connection's send buffer is empty: this never waits, and a
     client gone already costs nothing */
  if (send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) return ;
  for (size_t got = 0 ; got < DRAIN_MAX ;)
  {
    char junk[1024] ;
    ssize_t r = recv(fd, junk, sizeof junk, MSG_DONTWAIT) ;
    if (r <= 0) break ;
    got += (size_t)r ;
  }
  shutdown(fd, SHUT_WR) ;
}
