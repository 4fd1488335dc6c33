#ifndef POSTERN_PROXYFROM_H
#define POSTERN_PROXYFROM_H

/* control/proxyfrom: the balancers allowed to send a PROXY header (and
   from which it is required), one address or CIDR a line, IPv4 or
   IPv6; '#' starts a comment line. Absent: none. */
#define PROXYFROM_FILE "control/proxyfrom"
#define PROXYFROM_MAX 256

typedef struct proxyfrom_net_s proxyfrom_net ;
struct proxyfrom_net_s
{
  unsigned char addr[16] ;   /* IPv4 mapped: ::ffff: and its 4 bytes */
  unsigned int bits ;        /* of the 128 */
} ;

typedef struct proxyfrom_s proxyfrom ;
struct proxyfrom_s
{
  unsigned int n ;
  proxyfrom_net net[PROXYFROM_MAX] ;
} ;

/* reads the file: 1, or 0 with errno (EINVAL: a bad line, *line its
   number; E2BIG: more than PROXYFROM_MAX); absent: 1 and none */
extern int proxyfrom_load (proxyfrom *t, char const *file, unsigned int *line) ;
/* 1 if ip (text, IPv4 or IPv6) is one of the balancers */
extern int proxyfrom_match (proxyfrom const *t, char const *ip) ;

#endif
