/* Connections from a balancer (control/proxyfrom) waiting for their
   PROXY header, in LISTEN_PROXY_MAX slots watched by the listener's
   iopause. What has arrived is peeked (recv MSG_PEEK): a good beginning
   that is not a whole header yet is all header, so it is read into the
   slot's buffer (the descriptor does not stay readable with nothing new);
   a whole one is read to its last byte and no further, so the session's
   first byte stays for smtpd. */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "listen.h"
#include "proxy.h"

static struct
{
  struct listen_conn k ;
  tain deadline ;
  size_t have ;
  char buf[PROXY_MAX] ;
  unsigned char used ;
} slot[LISTEN_PROXY_MAX] ;

int listen_proxy_push (struct listen_conn const *k, tain const *deadline)
{
  for (unsigned int j = 0 ; j < LISTEN_PROXY_MAX ; j++)
    if (!slot[j].used)
    {
      slot[j].k = *k ;
      slot[j].deadline = *deadline ;
      slot[j].have = 0 ;
      slot[j].used = 1 ;
      return 1 ;
    }
  return 0 ;
}

static int oldest (void)
{
  int o = -1 ;
  for (unsigned int j = 0 ; j < LISTEN_PROXY_MAX ; j++)
    if (slot[j].used && (o < 0 || tain_less(&slot[j].deadline, &slot[o].deadline))) o = (int)j ;
  return o ;
}

int listen_proxy_oldest (struct listen_conn *k, tain const *now)
{
  int o = oldest() ;
  if (o < 0 || (now && !tain_less(&slot[o].deadline, now))) return 0 ;
  *k = slot[o].k ;
  slot[o].used = 0 ;
  return 1 ;
}

tain const *listen_proxy_next (void)
{
  int o = oldest() ;
  return o < 0 ? 0 : &slot[o].deadline ;
}

unsigned int listen_proxy_fds (iopause_fd *x, unsigned int *tok, unsigned int base)
{
  unsigned int n = 0 ;
  for (unsigned int j = 0 ; j < LISTEN_PROXY_MAX ; j++)
    if (slot[j].used)
    {
      x[n].fd = slot[j].k.fd ;
      x[n].events = IOPAUSE_READ ;
      tok[n++] = base + j ;
    }
  return n ;
}

/* an address from the header into to (LISTEN_IP_MAX): an IPv4-mapped
   IPv6 one as IPv4, as listen_addr shows a socket's */
static void addr (char *to, char const *from)
{
  size_t n = strlen(from) ;
  if (!strncasecmp(from, "::ffff:", 7) && strchr(from + 7, '.')) { from += 7 ; n -= 7 ; }
  if (n >= LISTEN_IP_MAX) n = LISTEN_IP_MAX - 1 ;
  memcpy(to, from, n) ;
  to[n] = 0 ;
}

static int drop (unsigned int j, struct listen_conn *k, char const **why, char const *what)
{
  *k = slot[j].k ;
  *why = what ;
  slot[j].used = 0 ;
  return -1 ;
}

int listen_proxy_read (unsigned int j, struct listen_conn *k, char const **why)
{
  proxy_info info ;
  ssize_t r, len ;
  size_t n ;
  if (j >= LISTEN_PROXY_MAX || !slot[j].used) return 0 ;
  r = recv(slot[j].k.fd, slot[j].buf + slot[j].have, PROXY_MAX - slot[j].have, MSG_PEEK | MSG_DONTWAIT) ;
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 0 ;
  if (r < 0) return drop(j, k, why, "unreadable") ;
  if (!r) return drop(j, k, why, "closed before its header") ;
  n = slot[j].have + (size_t)r ;
  len = proxy_parse(&info, slot[j].buf, n) ;
  if (len < 0 || (!len && n >= PROXY_MAX)) return drop(j, k, why, "bad header") ;
  /* all header: take it out of the socket and wait for the rest */
  if (!len)
  {
    if (read(slot[j].k.fd, slot[j].buf + slot[j].have, (size_t)r) != r) return drop(j, k, why, "unreadable") ;
    slot[j].have = n ;
    return 0 ;
  }
  /* peeked, so there: exactly the header's last bytes */
  if (read(slot[j].k.fd, slot[j].buf + slot[j].have, (size_t)len - slot[j].have) != len - (ssize_t)slot[j].have)
    return drop(j, k, why, "unreadable") ;
  *k = slot[j].k ;
  slot[j].used = 0 ;
  /* the balancer's health check (LOCAL, UNKNOWN): its own addresses */
  if (info.local) return 1 ;
  addr(k->rip, info.src) ;
  addr(k->lip, info.dst) ;
  k->rport[uint16_fmt(k->rport, (uint16_t)info.sport)] = 0 ;
  k->lport[uint16_fmt(k->lport, (uint16_t)info.dport)] = 0 ;
  return 1 ;
}
