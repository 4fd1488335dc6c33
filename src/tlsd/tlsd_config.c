#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/uint32.h>
#include "home.h"
#include "tlsd.h"

#define TEXT_(x) #x
#define TEXT(x) TEXT_(x)
#define KEYPAIRS_MAX_TEXT TEXT(TLSD_KEYPAIRS_MAX)

/* every engine process shares it, so a ticket one issued another accepts */
static unsigned char const session_id[] = "postern tlsd" ;

/* a failure is told and returned: the daemon keeps its last good
   configuration, an engine dies */
static int fail (struct tls_config *cfg, char const *what)
{
  char const *e = tls_config_error(cfg) ;
  strerr_warnwu2x(what, e ? e : "out of memory") ;
  return 0 ;
}

/* dir/NAME.crt and dir/NAME.key; 0 if either cannot be read */
static int keypair (struct tls_config *cfg, char const *dir, size_t dlen, char const *name, size_t nlen, int first)
{
  char crt[dlen + nlen + 6] ;
  char key[dlen + nlen + 6] ;
  memcpy(crt, dir, dlen) ; crt[dlen] = '/' ;
  memcpy(crt + dlen + 1, name, nlen) ;
  memcpy(key, crt, dlen + 1 + nlen) ;
  memcpy(crt + dlen + 1 + nlen, ".crt", 5) ;
  memcpy(key + dlen + 1 + nlen, ".key", 5) ;
  if ((first ? tls_config_set_keypair_file(cfg, crt, key) : tls_config_add_keypair_file(cfg, crt, key)) < 0)
  {
    char const *e = tls_config_error(cfg) ;
    strerr_warnwu4x("load keypair ", crt, ": ", e ? e : "out of memory") ;
    return 0 ;
  }
  return 1 ;
}

/* every NAME.crt of dir but default's, for SNI; one that fails is left out */
static int extras (struct tls_config *cfg, char const *dir, size_t dlen)
{
  unsigned int n = 0 ;
  DIR *d = opendir(dir) ;
  if (!d) { strerr_warnwu2sys("open directory ", dir) ; return 0 ; }
  for (;;)
  {
    struct dirent *de ;
    size_t len ;
    errno = 0 ;
    de = readdir(d) ;
    if (!de) break ;
    len = strlen(de->d_name) ;
    if (len <= 4 || len - 4 > TLSD_NAME_MAX || de->d_name[0] == '.' || strcmp(de->d_name + len - 4, ".crt")
     || !strcmp(de->d_name, "default.crt")) continue ;
    if (n >= TLSD_KEYPAIRS_MAX)
    {
      strerr_warnw3x("more than ", KEYPAIRS_MAX_TEXT, " keypairs besides default in tls/: the others are left out") ;
      break ;
    }
    n += keypair(cfg, dir, dlen, de->d_name, len - 4, 0) ;
  }
  if (errno) { strerr_warnwu2sys("read directory ", dir) ; closedir(d) ; return 0 ; }
  closedir(d) ;
  return 1 ;
}

/* dir/ticketkey: 48 bytes of key, then optionally 4 naming its revision
   (big-endian, 0 read as 1: libtls takes 0 for an empty slot); absent: no
   tickets, so no resumption across engines */
static int ticketkey (struct tls_config *cfg, char const *dir, size_t dlen)
{
  unsigned char buf[TLS_TICKET_KEY_SIZE + 4] ;
  char path[dlen + 11] ;
  uint32_t rev = 1 ;
  ssize_t r ;
  memcpy(path, dir, dlen) ;
  memcpy(path + dlen, "/ticketkey", 11) ;
  r = openreadnclose(path, (char *)buf, sizeof(buf)) ;
  if (r < 0)
  {
    if (errno == ENOENT) return 1 ;
    strerr_warnwu2sys("read ", path) ;
    return 0 ;
  }
  if (r < TLS_TICKET_KEY_SIZE)
  {
    strerr_warnw3x(path, " is shorter than 48 bytes", ": no session tickets") ;
    return 1 ;
  }
  if (r == (ssize_t)sizeof(buf)) uint32_unpack_big((char *)buf + TLS_TICKET_KEY_SIZE, &rev) ;
  if (!rev) rev = 1 ;
  if (tls_config_set_session_id(cfg, session_id, sizeof(session_id) - 1) < 0
   || tls_config_set_session_lifetime(cfg, TLSD_SESSION_LIFETIME) < 0
   || tls_config_add_ticket_key(cfg, rev, buf, TLS_TICKET_KEY_SIZE) < 0)
  {
    explicit_bzero(buf, sizeof(buf)) ;
    return fail(cfg, "set the ticket key: ") ;
  }
  explicit_bzero(buf, sizeof(buf)) ;
  return 1 ;
}

struct tls_config *tlsd_config (void)
{
  char const *home = home_dir() ;
  size_t hlen = strlen(home) ;
  char dir[hlen + 5] ;
  struct tls_config *cfg ;
  memcpy(dir, home, hlen) ;
  memcpy(dir + hlen, "/tls", 5) ;
  if (tls_init() < 0) { strerr_warnwu1x("initialize libtls") ; return 0 ; }
  cfg = tls_config_new() ;
  if (!cfg) { strerr_warnwu1x("create a TLS configuration: out of memory") ; return 0 ; }
  if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) < 0)
  {
    fail(cfg, "set the TLS protocols: ") ;
    goto err ;
  }
  if (!keypair(cfg, dir, hlen + 4, "default", 7, 1))
  {
    strerr_warnw2x("no usable default keypair in ", dir) ;
    goto err ;
  }
  if (!extras(cfg, dir, hlen + 4) || !ticketkey(cfg, dir, hlen + 4)) goto err ;
  return cfg ;
 err:
  tls_config_free(cfg) ;
  return 0 ;
}
