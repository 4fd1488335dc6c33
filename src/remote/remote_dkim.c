/* DKIM signing at delivery (remote(8), DKIM SIGNING): the scan of the
   body gives each line as sent; the header section is kept, the From
   domain looked up in control/dkimkeys.cdb at its end, and if it has a
   key the body is hashed and the DKIM-Signature field made, which
   remote_body_send sends first. Keys are read once per process. */

#include <errno.h>
#include <string.h>
#include <time.h>
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
/* the keys this message is signed with: selector and key, in table order */
static char selector[REMOTE_DKIM_SIGS_MAX][DKIM_SELECTOR_MAX + 1] ;
static struct evp_pkey_st *key[REMOTE_DKIM_SIGS_MAX] ;
static unsigned int nsig ;

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

/* the first space or tab of s, or len */
static size_t blank (char const *s, size_t len)
{
  size_t i = 0 ;
  while (i < len && s[i] != ' ' && s[i] != '\t') i++ ;
  return i ;
}

/* the end of the header section: sign or not */
static int decide (void)
{
  size_t i ;
  int r ;
  state = D_OFF ;
  nsig = 0 ;
  if (!dkim_from_domain(&from, head.s, head.len)) return 1 ;
  r = table_lookup(REMOTE_DKIMKEYS, from.s, from.len - 1, &value) ;
  if (r < 0) return fail("4.3.0 unable to read ", REMOTE_DKIMKEYS, "") ;
  if (!r) return 1 ;
  /* "selector keyfile", and more such pairs (RSA beside Ed25519) */
  if (!stralloc_0(&value)) return fail("4.3.0 out of memory", "", "") ;
  value.len-- ;
  for (i = 0, nsig = 0 ; i < value.len ;)
  {
    size_t n, f ;
    while (i < value.len && (value.s[i] == ' ' || value.s[i] == '\t')) i++ ;
    if (i == value.len) break ;
    n = i + blank(value.s + i, value.len - i) ;
    f = n + 1 ;
    while (f < value.len && (value.s[f] == ' ' || value.s[f] == '\t')) f++ ;
    if (nsig == REMOTE_DKIM_SIGS_MAX || n == i || n - i > DKIM_SELECTOR_MAX || f >= value.len)
      return fail("4.3.5 bad entry in ", REMOTE_DKIMKEYS, " for the From domain") ;
    memcpy(selector[nsig], value.s + i, n - i) ;
    selector[nsig][n - i] = 0 ;
    i = f + blank(value.s + f, value.len - f) ;
    value.s[i] = 0 ;   /* the NUL after the value, or the blank after the file */
    key[nsig] = key_get(value.s + f) ;
    if (!key[nsig])
      return fail("4.3.5 unable to load the DKIM key ", value.s + f,
        errno == EPERM ? ": readable by others than its owner" : errno == EINVAL ? ": not an Ed25519 or RSA (1024 bits or more) private key" : ": cannot read it") ;
    nsig++ ;
    if (i < value.len) i++ ;
  }
  if (!nsig) return fail("4.3.5 bad entry in ", REMOTE_DKIMKEYS, " for the From domain") ;
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
  d.t = time(0) ;
  for (unsigned int j = 0 ; j < nsig ; j++)
  {
    d.selector = selector[j] ;
    d.key = key[j] ;
    if (!dkim_sign_head(&sig, &d, head.s, head.len, bh)) return fail("4.3.0 unable to sign with DKIM: ", strerror(errno), "") ;
  }
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
