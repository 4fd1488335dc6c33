#include <string.h>
#include <arpa/inet.h>
#include "proxyfrom.h"

int proxyfrom_match (proxyfrom const *t, char const *ip)
{
  unsigned char a[16] = { 0 } ;
  if (strchr(ip, ':')) { if (inet_pton(AF_INET6, ip, a) != 1) return 0 ; }
  else
  {
    if (inet_pton(AF_INET, ip, a + 12) != 1) return 0 ;
    a[10] = a[11] = 0xff ;
  }
  for (unsigned int i = 0 ; i < t->n ; i++)
  {
    proxyfrom_net const *n = t->net + i ;
    unsigned int whole = n->bits / 8, rest = n->bits % 8 ;
    if (memcmp(a, n->addr, whole)) continue ;
    if (rest && (a[whole] ^ n->addr[whole]) >> (8 - rest)) continue ;
    return 1 ;
  }
  return 0 ;
}
