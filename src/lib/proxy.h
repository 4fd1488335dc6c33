#ifndef POSTERN_PROXY_H
#define POSTERN_PROXY_H

#include <sys/types.h>

/* The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2):
   the header a balancer sends first, naming the client it relays. */

/* v1: at most 107 bytes, CR LF included; v2: 16 bytes, then the
   addresses and TLVs, of which we take at most 512 (HAProxy sends a few
   dozen) */
#define PROXY_V1_MAX 107
#define PROXY_V2_MAX (16 + 512)
#define PROXY_MAX PROXY_V2_MAX
/* an address as text (INET6_ADDRSTRLEN) */
#define PROXY_IP_MAX 46

typedef struct proxy_info_s proxy_info ;
struct proxy_info_s
{
  int local ;                   /* v2 LOCAL, v1 UNKNOWN, or family UNSPEC: no
                                   client named (a health check): the
                                   connection's own addresses stand */
  int v6 ;
  char src[PROXY_IP_MAX] ;      /* the client, NUL-terminated */
  char dst[PROXY_IP_MAX] ;      /* the address it connected to */
  unsigned int sport ;
  unsigned int dport ;
} ;

/* s: the first n bytes of a connection. Returns the header's length
   (> 0) with *p filled; 0 if n bytes are a good beginning but not a
   whole header yet (read more, up to PROXY_MAX); -1 if they are no
   PROXY header or a bad one. */
extern ssize_t proxy_parse (proxy_info *p, char const *s, size_t n) ;

#endif
