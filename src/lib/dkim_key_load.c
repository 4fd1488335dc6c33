/* a key readable by group or others is refused: the signing account
   alone may read it (remote(8), DKIM signing) */

#include <errno.h>
#include <sys/stat.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "dkim.h"

/* a PEM key: an RSA key of 8192 bits is under 7000 bytes */
#define KEY_FILE_MAX 16384

EVP_PKEY *dkim_key_load (char const *path)
{
  stralloc sa = STRALLOC_ZERO ;
  struct stat st ;
  EVP_PKEY *key = 0 ;
  BIO *bio ;
  int fd = openc_read(path) ;
  if (fd < 0) return 0 ;
  if (fstat(fd, &st) < 0) { fd_close(fd) ; return 0 ; }
  if (st.st_mode & 077) { fd_close(fd) ; errno = EPERM ; return 0 ; }
  if (st.st_size > KEY_FILE_MAX) { fd_close(fd) ; errno = EINVAL ; return 0 ; }
  if (!slurp(&sa, fd) || sa.len > KEY_FILE_MAX) { fd_close(fd) ; stralloc_free(&sa) ; return 0 ; }
  fd_close(fd) ;
  bio = BIO_new_mem_buf(sa.s, sa.len) ;
  if (bio)
  {
    key = PEM_read_bio_PrivateKey(bio, 0, 0, 0) ;
    BIO_free(bio) ;
  }
  stralloc_free(&sa) ;
  /* RFC 8301 3.2: a signer's RSA key has at least 1024 bits; a
     verifier refuses what a shorter one signs */
  if (key && (!dkim_key_kind(key) || (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) < DKIM_RSA_BITS_MIN)))
  {
    EVP_PKEY_free(key) ;
    key = 0 ;
  }
  if (!key) errno = EINVAL ;
  return key ;
}
