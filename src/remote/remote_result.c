#include <string.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include "remote.h"

/* Texts go into one NUL-framed record and into send's log: no NUL, no
   line break, no other control byte, at most REMOTE_TEXT_MAX bytes. */
static void clean (stralloc *t)
{
  if (t->len > REMOTE_TEXT_MAX) t->len = REMOTE_TEXT_MAX ;
  for (size_t i = 0 ; i < t->len ; i++)
    if ((unsigned char)t->s[i] < 32 || t->s[i] == 127) t->s[i] = '?' ;
}

void remote_result_set (remote_rcpt *r, char status, char const *s1, char const *s2, char const *s3)
{
  if (r->status) return ;
  r->text.len = 0 ;
  if (!stralloc_cats(&r->text, s1) || !stralloc_cats(&r->text, s2) || !stralloc_cats(&r->text, s3))
  {
    /* out of memory: a result must still go out, and a temporary one is safe */
    status = 'Z' ;
    r->text.len = 0 ;
    if (!stralloc_cats(&r->text, "4.3.0 out of memory")) r->text.len = 0 ;
  }
  clean(&r->text) ;
  r->status = status ;
}

void remote_result_all (remote_ctx *c, char status, char const *s1, char const *s2, char const *s3)
{
  for (unsigned int i = 0 ; i < c->n ; i++) remote_result_set(c->rcpts + i, status, s1, s2, s3) ;
}

/* one record: a field per recipient, in argv order, then an empty one;
   after lead if not 0, in one write (one message on remote -w's socket) */
int remote_result_write (remote_ctx const *c, char lead)
{
  stralloc out = STRALLOC_ZERO ;
  int ok = !lead || stralloc_catb(&out, &lead, 1) ;
  for (unsigned int i = 0 ; i < c->n && ok ; i++)
  {
    remote_rcpt const *r = c->rcpts + i ;
    char st = r->status ? r->status : 'Z' ;
    ok = stralloc_catb(&out, &st, 1)
      && (r->text.len ? stralloc_catb(&out, r->text.s, r->text.len) : stralloc_cats(&out, "4.3.0 no result"))
      && stralloc_0(&out) ;
  }
  ok = ok && stralloc_0(&out) && allwrite(1, out.s, out.len) == out.len ;
  stralloc_free(&out) ;
  return ok ;
}

/* the mark is kept whole: the text is cut before it, never the mark */
void remote_result_site (remote_ctx *c, char const *text)
{
  size_t n = strlen(text), room = REMOTE_TEXT_MAX - (sizeof SITE_MARK - 1) ;
  char buf[REMOTE_TEXT_MAX + 1] ;
  if (n > room) n = room ;
  memcpy(buf, text, n) ;
  memcpy(buf + n, SITE_MARK, sizeof SITE_MARK) ;
  remote_result_all(c, 'Z', buf, "", "") ;
}
