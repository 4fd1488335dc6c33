/* STARTTLS's client side with libtls (libretls over OpenSSL 3). TLS 1.2
   and 1.3 only. verify: the chain up to control/tlscafile and the name;
   otherwise (may, encrypt) the session is encrypted but nothing about
   the peer is checked, since there is no name anyone vouched for. */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <tls.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "control.h"
#include "remote.h"

static int inited = 0 ;

static int fail (stralloc *err, char const *s1, char const *s2)
{
  err->len = 0 ;
  if (!stralloc_cats(err, s1) || !stralloc_cats(err, s2 ? s2 : "unknown error") || !stralloc_0(err)) err->len = 0 ;
  return 0 ;
}

static struct tls_config *config (int verify, stralloc *err)
{
  struct tls_config *cfg = tls_config_new() ;
  if (!cfg) { fail(err, "TLS set-up failed: ", strerror(errno)) ; return 0 ; }
  if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) < 0) goto err ;
  if (verify)
  {
    stralloc ca = STRALLOC_ZERO ;
    struct stat st ;
    int r = control_readline(&ca, "tlscafile") ;
    if (r < 0) { fail(err, "unable to read control/tlscafile: ", strerror(errno)) ; goto free ; }
    if (!r || !ca.len) { ca.len = 0 ; if (!stralloc_cats(&ca, REMOTE_TLS_CAFILE)) goto oom ; }
    if (!stralloc_0(&ca)) goto oom ;
    /* a directory of hashed certificates (c_rehash) is read lazily, the
       CA needed alone; a bundle is parsed whole at every run */
    r = stat(ca.s, &st) == 0 && S_ISDIR(st.st_mode) ? tls_config_set_ca_path(cfg, ca.s) : tls_config_set_ca_file(cfg, ca.s) ;
    stralloc_free(&ca) ;
    if (r < 0) goto err ;
    tls_config_verify(cfg) ;
  }
  else
  {
    /* any encryption beats clear text: the wider set of ciphers */
    if (tls_config_set_ciphers(cfg, "compat") < 0) goto err ;
    tls_config_insecure_noverifycert(cfg) ;
    tls_config_insecure_noverifyname(cfg) ;
  }
  return cfg ;
 oom:
  fail(err, "TLS set-up failed: ", "out of memory") ;
  goto free ;
 err:
  fail(err, "TLS set-up failed: ", tls_config_error(cfg)) ;
 free:
  tls_config_free(cfg) ;
  return 0 ;
}

int remote_tls_start (remote_conn *k, char const *name, int verify, stralloc *err)
{
  struct tls_config *cfg ;
  struct tls *t ;
  tain deadline ;
  if (verify && !name) return fail(err, "no host name to verify", "") ;
  if (!inited)
  {
    if (tls_init() < 0) return fail(err, "TLS set-up failed: ", "tls_init") ;
    inited = 1 ;
  }
  cfg = config(verify, err) ;
  if (!cfg) return 0 ;
  t = tls_client() ;
  if (!t) { tls_config_free(cfg) ; return fail(err, "TLS set-up failed: ", strerror(errno)) ; }
  if (tls_configure(t, cfg) < 0 || tls_connect_socket(t, k->fd, name) < 0)
  {
    fail(err, "TLS set-up failed: ", tls_error(t)) ;
    goto free ;
  }
  remote_deadline(&deadline, &k->timeout, &k->end) ;
  for (;;)
  {
    int r = tls_handshake(t) ;
    if (!r) break ;
    if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT)
    {
      char const *e = tls_error(t) ;
      /* libtls says "handshake failed: ..." itself for OpenSSL's errors */
      fail(err, e && !strncmp(e, "handshake failed", 16) ? "TLS " : "TLS handshake failed: ", e) ;
      goto free ;
    }
    if (!remote_io_wait(k->fd, r, &deadline))
    {
      fail(err, "TLS handshake failed: ", errno == ETIMEDOUT ? "timed out" : strerror(errno)) ;
      goto free ;
    }
  }
  tls_config_free(cfg) ;
  k->tls = t ;
  return 1 ;
 free:
  tls_free(t) ;
  tls_config_free(cfg) ;
  return 0 ;
}

void remote_tls_note (remote_conn const *k, int verify, char *note)
{
  char const *v = tls_conn_version(k->tls), *c = tls_conn_cipher(k->tls) ;
  size_t n = 0 ;
  char const *parts[5] = { " (", v ? v : "TLS", " ", c ? c : "unknown cipher", verify ? ", verified)" : ", not verified)" } ;
  for (unsigned int i = 0 ; i < 5 ; i++)
  {
    size_t len = strlen(parts[i]) ;
    if (len > REMOTE_TLSNOTE_MAX - 1 - n) len = REMOTE_TLSNOTE_MAX - 1 - n ;
    memcpy(note + n, parts[i], len) ;
    n += len ;
  }
  note[n] = 0 ;
}

char const *remote_tls_error (remote_conn const *k)
{
  char const *e = k->tls ? tls_error(k->tls) : 0 ;
  return e ? e : "TLS error" ;
}

void remote_tls_end (remote_conn *k)
{
  if (!k->tls) return ;
  tls_close(k->tls) ;
  tls_free(k->tls) ;
  k->tls = 0 ;
}
