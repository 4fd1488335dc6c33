/* The header section: field lines and their continuation lines, up to
   an empty line, a line that is no field (it starts the body, and a
   separator is put before it, as Postfix does), a "." line without -i,
   or the end of the input. A first line "From " (an mbox separator) is
   dropped. Fields are kept byte for byte, but Bcc: (it would show the
   hidden recipients) and Return-Path: (local writes the real one). */

#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "inject.h"

static void nomem (void)
{
  strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
}

static void toolong (void)
{
  strerr_dief1x(INJECT_EDATA, "the header section is longer than 262144 bytes") ;
}

/* RFC 5322 2.2 field name (printable ASCII but ':'), then blanks
   (obs-hdr) and ':': returns the name's length, 0 if not a field; with
   partial, a line cut short that may still become one counts as one.
   A name fits a line: RFC 5322 2.1.1, 998 octets. */
#define FIELDNAME_MAX 998
static size_t fieldname (char const *s, size_t len, int partial)
{
  size_t i = 0, n ;
  while (i < len && s[i] > 32 && s[i] < 127 && s[i] != ':') i++ ;
  n = i ;
  while (i < len && (s[i] == ' ' || s[i] == '\t')) i++ ;
  if (!n || n > FIELDNAME_MAX) return 0 ;
  if (i == len) return partial ? n : 0 ;
  return s[i] == ':' ? n : 0 ;
}

static int named (char const *s, size_t n, char const *name)
{
  return strlen(name) == n && !strncasecmp(s, name, n) ;
}

/* one whole field (with its continuation lines) is read */
static void field (inject_head *h, stralloc const *f, inject_opts const *o, inject_rcpts *r)
{
  size_t n = fieldname(f->s, f->len, 0) ;
  char const *colon = memchr(f->s, ':', f->len) ;
  size_t vlen = f->len - (size_t)(colon + 1 - f->s) ;
  int drop = named(f->s, n, "bcc") || named(f->s, n, "return-path") ;
  if (o->extract && (named(f->s, n, "to") || named(f->s, n, "cc") || named(f->s, n, "bcc")))
    if (!inject_addrlist(colon + 1, vlen, &inject_rcpt_add, r)) nomem() ;
  if (named(f->s, n, "date")) h->has |= INJECT_HAS_DATE ;
  else if (named(f->s, n, "message-id")) h->has |= INJECT_HAS_MSGID ;
  else if (named(f->s, n, "from")) h->has |= INJECT_HAS_FROM ;
  if (!drop && !stralloc_catb(&h->out, f->s, f->len)) nomem() ;
}

void inject_header_read (inject_head *h, inject_opts const *o, inject_rcpts *r)
{
  stralloc line = STRALLOC_ZERO, f = STRALLOC_ZERO ;
  size_t total = 0 ;
  int first = 1 ;
  for (;; first = 0)
  {
    enum inject_line e ;
    line.len = 0 ;
    e = inject_in_line(&line, INJECT_HEADER_MAX - total) ;
    if (e == IN_EOF && !line.len) { h->ended = 1 ; break ; }
    if (e == IN_EOF && !stralloc_catb(&line, "\n", 1)) nomem() ;
    if (e == IN_LONG)
    {
      if (!line.len || (f.len && (line.s[0] == ' ' || line.s[0] == '\t'))
       || fieldname(line.s, line.len, 1)) toolong() ;
      /* a body line longer than the budget: it goes on to the body */
      if (!stralloc_copy(&h->first, &line)) nomem() ;
      h->midline = 1 ;
      h->body = 1 ;
      break ;
    }
    if (first && line.len >= 5 && !memcmp(line.s, "From ", 5)) continue ;
    if (line.len == 1) { h->body = 1 ; break ; }
    if (o->dots && line.len == 2 && line.s[0] == '.') { h->ended = 1 ; break ; }
    total += line.len ;
    if (f.len && (line.s[0] == ' ' || line.s[0] == '\t'))
    {
      if (!stralloc_cat(&f, &line)) nomem() ;
      continue ;
    }
    if (f.len) field(h, &f, o, r) ;
    f.len = 0 ;
    if (!fieldname(line.s, line.len, 0))
    {
      if (!stralloc_copy(&h->first, &line)) nomem() ;
      h->body = 1 ;
      break ;
    }
    if (!stralloc_copy(&f, &line)) nomem() ;
  }
  if (f.len) field(h, &f, o, r) ;
  stralloc_free(&line) ;
  stralloc_free(&f) ;
}
