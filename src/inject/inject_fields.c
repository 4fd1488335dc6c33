/* The fields RFC 5322 3.6 requires (Date:, From:) and Message-ID:,
   added when the message has none. */

#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/fmtscan.h>
#include <skalibs/random.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "date822.h"
#include "inject.h"

/* RFC 2047 2: an encoded word is at most 75 characters; 45 bytes make
   60 of base64, plus "=?UTF-8?B?" and "?=" */
#define WORD_BYTES 45
/* random bytes in a Message-ID, after the time and the pid */
#define MSGID_RANDOM 8

static void nomem (void)
{
  strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
}

static void put (stralloc *out, char const *s, size_t n)
{
  if (!stralloc_catb(out, s, n)) nomem() ;
}

static void b64 (stralloc *out, unsigned char const *s, size_t n)
{
  static char const a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" ;
  for (size_t i = 0 ; i < n ; i += 3)
  {
    unsigned long v = (unsigned long)s[i] << 16 | (i + 1 < n ? (unsigned long)s[i+1] << 8 : 0)
                    | (i + 2 < n ? s[i+2] : 0) ;
    char q[4] = { a[v >> 18 & 63], a[v >> 12 & 63], i + 1 < n ? a[v >> 6 & 63] : '=', i + 2 < n ? a[v & 63] : '=' } ;
    put(out, q, 4) ;
  }
}

/* RFC 2047 encoded words, cut between UTF-8 characters (6.3), folded */
static void encoded (stralloc *out, char const *s, size_t n)
{
  while (n)
  {
    size_t k = n < WORD_BYTES ? n : WORD_BYTES ;
    while (k < n && k > 1 && ((unsigned char)s[k] & 0xc0) == 0x80) k-- ;
    put(out, "=?UTF-8?B?", 10) ;
    b64(out, (unsigned char const *)s, k) ;
    put(out, "?=", 2) ;
    s += k ; n -= k ;
    put(out, n ? "\n " : " ", n ? 2 : 1) ;
  }
}

/* the display name: atoms as they are, other ASCII quoted, the rest
   encoded */
static void phrase (stralloc *out, char const *s, size_t n)
{
  int atoms = 1 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    unsigned char c = (unsigned char)s[i] ;
    if (c >= 127) { encoded(out, s, n) ; return ; }
    if (!(c == ' ' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
       || strchr("!#$%&'*+-/=?^_`{|}~", c))) atoms = 0 ;
  }
  if (atoms) { put(out, s, n) ; put(out, " ", 1) ; return ; }
  put(out, "\"", 1) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (s[i] == '"' || s[i] == '\\') put(out, "\\", 1) ;
    put(out, s + i, 1) ;
  }
  put(out, "\" ", 2) ;
}

void inject_add_from (stralloc *out, inject_conf const *c)
{
  size_t namelen = c->name.len - 1 ;
  put(out, "From: ", 6) ;
  if (namelen) { phrase(out, c->name.s, namelen) ; put(out, "<", 1) ; }
  put(out, c->user.s, c->user.len - 1) ;
  put(out, "@", 1) ;
  put(out, c->host.s, c->host.len - 1) ;
  put(out, namelen ? ">\n" : "\n", namelen ? 2 : 1) ;
}

void inject_add_date (stralloc *out)
{
  char d[DATE822_FMT] ;
  put(out, "Date: ", 6) ;
  put(out, d, date822_fmt(d, time(0))) ;
  put(out, "\n", 1) ;
}

/* unique: the time, the pid (no two live processes share it) and random
   bytes (two hosts, or a pid reused within the second) */
void inject_add_msgid (stralloc *out, inject_conf const *c)
{
  char fmt[ULONG_FMT] ;
  char rnd[MSGID_RANDOM] ;
  char hex[MSGID_RANDOM * 2] ;
  random_buf(rnd, sizeof rnd) ;
  put(out, "Message-ID: <", 13) ;
  put(out, fmt, ulong_fmt(fmt, (unsigned long)time(0))) ;
  put(out, ".", 1) ;
  put(out, fmt, pid_fmt(fmt, getpid())) ;
  put(out, ".", 1) ;
  put(out, hex, ucharn_fmt(hex, rnd, sizeof rnd)) ;
  put(out, "@", 1) ;
  put(out, c->host.s, c->host.len - 1) ;
  put(out, ">\n", 2) ;
}
