/* A session's variables: the addresses as text, NAME=value items, and
   what the rules made of the client. */

#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "listen.h"

/* an IPv4-mapped address is shown as IPv4 (ucspi-tcp-ipv6 does so),
   so that "::" serves IPv4 clients under their usual rules */
void listen_addr (struct sockaddr_storage const *ss, char *ip, char *port)
{
  uint16_t p = 0 ;
  ip[0] = 0 ;
  if (ss->ss_family == AF_INET)
  {
    struct sockaddr_in const *a = (struct sockaddr_in const *)ss ;
    inet_ntop(AF_INET, &a->sin_addr, ip, LISTEN_IP_MAX) ;
    p = ntohs(a->sin_port) ;
  }
  else if (ss->ss_family == AF_INET6)
  {
    struct sockaddr_in6 const *a = (struct sockaddr_in6 const *)ss ;
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) inet_ntop(AF_INET, a->sin6_addr.s6_addr + 12, ip, LISTEN_IP_MAX) ;
    else inet_ntop(AF_INET6, &a->sin6_addr, ip, LISTEN_IP_MAX) ;
    p = ntohs(a->sin6_port) ;
  }
  port[uint16_fmt(port, p)] = 0 ;
}

int listen_var (stralloc *sa, char const *name, char const *value)
{
  return stralloc_cats(sa, name) && stralloc_catb(sa, "=", 1)
    && stralloc_cats(sa, value) && stralloc_0(sa) ;
}

/* the rule made it a relay client: exempt from the per-address limits */
int listen_relayclient (stralloc const *vars)
{
  for (size_t i = 0 ; i < vars->len ; i += strlen(vars->s + i) + 1)
    if (!strncmp(vars->s + i, "RELAYCLIENT=", 12)) return 1 ;
  return 0 ;
}
