#include <openssl/ssl.h>

/* libretls 3.7.0 (Debian 12) gives OpenSSL a ticket key callback that
   returns 0 once it has set a new ticket's keys; OpenSSL 1.1.1 and later
   read 0 as "issue no ticket", so no client could ever resume. tlsd is
   linked with -Wl,--wrap=SSL_CTX_callback_ctrl (Makefile): where libtls
   installs that callback, this one goes in between and says 1 instead.
   Its other answers (-1 error; 0, 1, 2 when reading a ticket) pass as they are. */

typedef int tlsd_ticket_cb (SSL *, unsigned char *, unsigned char *, EVP_CIPHER_CTX *, HMAC_CTX *, int) ;

static tlsd_ticket_cb *libtls_cb = 0 ;

static int fixed_cb (SSL *s, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *c, HMAC_CTX *h, int enc)
{
  int r = (*libtls_cb)(s, name, iv, c, h, enc) ;
  return enc && !r ? 1 : r ;
}

extern long __real_SSL_CTX_callback_ctrl (SSL_CTX *, int, void (*)(void)) ;
extern long __wrap_SSL_CTX_callback_ctrl (SSL_CTX *, int, void (*)(void)) ;

long __wrap_SSL_CTX_callback_ctrl (SSL_CTX *ctx, int cmd, void (*fp)(void))
{
  if (cmd == SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB && fp)
  {
    libtls_cb = (tlsd_ticket_cb *)fp ;
    fp = (void (*)(void))&fixed_cb ;
  }
  return __real_SSL_CTX_callback_ctrl(ctx, cmd, fp) ;
}
