/* DKIM signing at delivery (remote(8), DKIM SIGNING): the scan of the
   body gives each line as sent; the header section is kept, the From
   domain looked up in control/dkimkeys.cdb at its end, and if it has a
   key the body is hashed and the DKIM-Signature field made, which
   remote_body_send sends first. Keys are read once per process. */

#include <errno.h>
#include <string.h>
#include <time.h>
#include <skalibs/bytestr.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "dkim.h"
#include "remote.h"
#include "table.h"

enum { D_OFF, D_HEAD, D_BODY } ;

static int state ;
static stralloc head = STRALLOC_ZERO, sig = STRALLOC_ZERO, from = STRALLOC_ZERO ;
static stralloc value = STRALLOC_ZERO, err = STRALLOC_ZERO ;
static dkim_body body = DKIM_BODY_ZERO ;
static char selector[DKIM_SELECTOR_MAX + 1] ;
static struct evp_pkey_st *key ;

/* keys kept by file name: a long-lived remote reads each once */
static struct { char *path ; struct evp_pkey_st *key ; } keys[REMOTE_DKIM_KEYS_MAX] ;
static unsigned int nkeys ;

static int fail (char const *s1, char const *s2, char const *s3)
{
  err.len = 0 ;
  if (!stralloc_cats(&err, s1) || !stralloc_cats(&err, s2) || !stralloc_cats(&err, s3) || !stralloc_0(&err)) err.len = 0 ;
  state = D_OFF ;
  return 0 ;
}

static struct evp_pkey_st *key_get (char const *path)
{
  struct evp_pkey_st *k ;
  for (unsigned int i = 0 ; i < nkeys ; i++)
    if (!strcmp(keys[i].path, path)) return keys[i].key ;
  k = dkim_key_load(path) ;
  if (k && nkeys < REMOTE_DKIM_KEYS_MAX)
  {
    keys[nkeys].path = strdup(path) ;
    if (keys[nkeys].path) keys[nkeys++].key = k ;
  }
  return k ;
}

/* the end of the header section: sign or not */
static int decide (void)
{
  size_t i ;
  int r ;
  state = D_OFF ;
  if (!dkim_from_domain(&from, head.s, head.len)) return 1 ;
  r = table_lookup(REMOTE_DKIMKEYS, from.s, from.len - 1, &value) ;
  if (r < 0) return fail("4.3.0 unable to read ", REMOTE_DKIMKEYS, "") ;
  if (!r) return 1 ;
  /* "selector keyfile" */
  if (!stralloc_0(&value)) return fail("4.3.0 out of memory", "", "") ;
  i = byte_chr(value.s, value.len, ' ') ;
  if (!i || i > DKIM_SELECTOR_MAX || i + 1 >= value.len - 1)
    return fail("4.3.5 bad entry in ", REMOTE_DKIMKEYS, " for the From domain") ;
  memcpy(selector, value.s, i) ;
  selector[i] = 0 ;
  key = key_get(value.s + i + 1) ;
  if (!key)
    return fail("4.3.5 unable to load the DKIM key ", value.s + i + 1,
      errno == EPERM ? ": readable by others than its owner" : errno == EINVAL ? ": not an RSA or Ed25519 private key" : ": cannot read it") ;
  if (!dkim_body_init(&body)) return fail("4.3.0 OpenSSL failed", "", "") ;
  state = D_BODY ;
  return 1 ;
}

void remote_dkim_start (void)
{
  if (body.md) { unsigned char h[DKIM_HASH_LEN] ; dkim_body_final(&body, h) ; }
  head.len = sig.len = err.len = 0 ;
  state = D_HEAD ;
}

int remote_dkim_line (char const *s, size_t len, int header)
{
  if (len && s[0] == '.') { s++ ; len-- ; }   /* dot-stuffed */
  switch (state)
  {
    case D_HEAD :
      if (!header) return decide() ;
      if (!len) return decide() ;   /* the empty line: not the body's */
      if (head.len + len + 2 > DKIM_HEADER_MAX) { state = D_OFF ; return 1 ; }
      if (!stralloc_catb(&head, s, len) || !stralloc_catb(&head, "\r\n", 2)) return fail("4.3.0 out of memory", "", "") ;
      return 1 ;
    case D_BODY :
      if (!dkim_body_line(&body, s, len)) return fail("4.3.0 OpenSSL failed", "", "") ;
      return 1 ;
    default : return 1 ;
  }
}

int remote_dkim_end (void)
{
  unsigned char bh[DKIM_HASH_LEN] ;
  dkim_sign d ;
  if (state == D_HEAD && !decide()) return 0 ;
  if (err.len) return 0 ;
  if (state != D_BODY) return 1 ;
  state = D_OFF ;
  if (!dkim_body_final(&body, bh)) return fail("4.3.0 OpenSSL failed", "", "") ;
  d.domain = from.s ;
  d.selector = selector ;
  d.key = key ;
  d.t = time(0) ;
  if (!dkim_sign_head(&sig, &d, head.s, head.len, bh)) return fail("4.3.0 unable to sign with DKIM: ", strerror(errno), "") ;
  return 1 ;
}

char const *remote_dkim_sig (size_t *len)
{
  *len = sig.len ;
  return sig.s ;
}

char const *remote_dkim_error (void)
{
  return err.len ? err.s : "4.3.0 DKIM signing failed" ;
}
