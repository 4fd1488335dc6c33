/* RFC 8601 5: an Authentication-Results field of the client's that
   claims our authserv-id (control/me) would pass for our own check; it
   is deleted as the header streams by. Bytes are held only from a
   line's start until its field name differs, or until the field's
   authserv-id is known. The id is read as RFC 8601 2.2 writes it
   (a token or a quoted-string, after comments and folding) and the name
   as RFC 5322 does (any case, blanks before the colon: 4.5's obsolete
   syntax, which readers still take). */

#include <string.h>
#include <strings.h>
#include "smtpd.h"

/* a field's start held while its authserv-id is awaited; a longer
   run of blanks, comment and folding before it is taken as ours */
#define ARFILTER_HOLD_MAX 1024

static char const name[] = "authentication-results" ;
#define NAME_LEN (sizeof name - 1)

enum arstate { A_BOL, A_NAME, A_COLON, A_ID, A_PASS, A_DROP, A_DROPNL, A_IDNL, A_BODY } ;
static enum arstate st ;
static char hold[ARFILTER_HOLD_MAX] ;
static size_t held ;
/* the authserv-id as read (quotes and escapes taken off), and how far */
static char id[SMTPD_ME_MAX + 1] ;
static size_t idlen ;
static int inid ;      /* in the id */
static int quoted ;    /* the id is a quoted-string */
static int escaped ;   /* the last byte was a backslash in a comment or quoted-string */
static unsigned int comment ;  /* comment depth before the id */
static unsigned long dropped ;

static void id_reset (void)
{
  idlen = 0 ; inid = 0 ; quoted = 0 ; escaped = 0 ; comment = 0 ;
}

void smtpd_arfilter_reset (void)
{
  st = A_BOL ; held = 0 ; dropped = 0 ;
  id_reset() ;
}

unsigned long smtpd_arfilter_dropped (void)
{
  return dropped ;
}

static void release (void (*out)(char const *, size_t))
{
  if (held) out(hold, held) ;
  held = 0 ;
  id_reset() ;
}

static void drop (char c)
{
  held = 0 ;
  id_reset() ;
  dropped++ ;
  st = c == '\n' ? A_DROPNL : A_DROP ;
}

/* the id read so far is ours, whole */
static int ours (void)
{
  return idlen == smtpd_config.me.len - 1 && !strncasecmp(id, smtpd_config.me.s, idlen) ;
}

static void id_add (char c)
{
  /* longer than ours: never ours, but read on to its end */
  if (idlen < sizeof id) id[idlen] = c ;
  idlen++ ;
}

static int letter (char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ; }
static int blank (char c) { return c == ' ' || c == '\t' ; }

/* one byte of the field's value before and in its authserv-id: 1 when
   the id has ended (c is not part of it) */
static int id_byte (char c)
{
  if (escaped) { escaped = 0 ; if (inid) id_add(c) ; return 0 ; }
  if (inid && quoted)
  {
    if (c == '\\') escaped = 1 ;
    else if (c == '"') return 1 ;
    else if (c != '\n') id_add(c) ;
    return 0 ;
  }
  if (inid) return c == ';' || c == '(' || c == '"' || blank(c) || c == '\n' ? 1 : (id_add(c), 0) ;
  if (comment)
  {
    if (c == '\\') escaped = 1 ;
    else if (c == '(') comment++ ;
    else if (c == ')') comment-- ;
    return 0 ;
  }
  if (c == '(') comment = 1 ;
  else if (c == '"') inid = quoted = 1 ;
  else if (!blank(c) && c != '\n') { inid = 1 ; id_add(c) ; }
  return 0 ;
}

void smtpd_arfilter (char const *s, size_t n, void (*out)(char const *, size_t))
{
  size_t i = 0, run = 0 ;  /* s[i - run .. i) passes unchanged */
#define FLUSHRUN() do { if (run) out(s + i - run, run) ; run = 0 ; } while (0)
  for (; i < n ; i++)
  {
    char c = s[i] ;
    switch (st)
    {
      case A_BODY : run++ ; continue ;
      case A_PASS : run++ ; if (c == '\n') st = A_BOL ; continue ;
      case A_DROPNL :
        if (blank(c)) { st = A_DROP ; continue ; }
        st = A_BOL ;
        /* fall through */
      case A_BOL :
        if (c == '\n') { run++ ; st = A_BODY ; continue ; }
        if ((letter(c) ? c | 0x20 : c) != name[0]) { run++ ; st = A_PASS ; continue ; }
        FLUSHRUN() ;
        hold[held++] = c ;
        st = A_NAME ;
        continue ;
      case A_DROP :
        if (c == '\n') st = A_DROPNL ;
        continue ;
      case A_NAME :
        if ((letter(c) ? c | 0x20 : c) != name[held]) break ;
        hold[held++] = c ;
        if (held == NAME_LEN) st = A_COLON ;
        continue ;
      case A_COLON :
        /* more blanks than held: taken as ours, as a long comment is */
        if (held == sizeof hold) { drop(c) ; continue ; }
        if (c == ':') st = A_ID ;
        else if (!blank(c)) break ;
        hold[held++] = c ;
        continue ;
      case A_IDNL :
        if (!blank(c))
        {
          /* the field ended with no whole authserv-id: not ours */
          release(out) ;
          st = A_BOL ;
          i-- ;
          continue ;
        }
        st = A_ID ;
        /* fall through */
      case A_ID :
        if (held == sizeof hold) { drop(c) ; continue ; }
        if (id_byte(c))
        {
          if (ours()) { drop(c) ; continue ; }
          hold[held++] = c ;
          release(out) ;
          st = c == '\n' ? A_BOL : A_PASS ;
          continue ;
        }
        hold[held++] = c ;
        if (c == '\n') st = A_IDNL ;
        continue ;
    }
    /* a name that is not ours after all: what was held passes, and c with it */
    release(out) ;
    run++ ;
    st = c == '\n' ? A_BOL : A_PASS ;
  }
  FLUSHRUN() ;
#undef FLUSHRUN
}

void smtpd_arfilter_end (void (*out)(char const *, size_t))
{
  if (st == A_NAME || st == A_COLON || st == A_ID || st == A_IDNL)
  {
    if (inid && !quoted && ours()) dropped++ ;
    else release(out) ;
  }
  held = 0 ;
  id_reset() ;
  st = A_BODY ;
}
