/* RFC 8601 5: an Authentication-Results field of the client's that
   claims our authserv-id (control/me) would pass for our own check; it
   is deleted as the header streams by. Bytes are held only from a
   line's start until its field name differs, or until the field's
   authserv-id is known. */

#include <string.h>
#include <strings.h>
#include "smtpd.h"

/* a field's start held while its authserv-id is awaited; a longer
   run of comment and folding before it is taken as ours */
#define ARFILTER_HOLD_MAX 1024

static char const name[] = "authentication-results:" ;
#define NAME_LEN (sizeof name - 1)

enum arstate { A_BOL, A_NAME, A_ID, A_PASS, A_DROP, A_DROPNL, A_IDNL, A_BODY } ;
static enum arstate st ;
static char hold[ARFILTER_HOLD_MAX] ;
static size_t held ;
static size_t idstart ;  /* where the authserv-id starts in hold, 0 before it */
static int comment ;
static unsigned long dropped ;

void smtpd_arfilter_reset (void)
{
  st = A_BOL ; held = 0 ; idstart = 0 ; comment = 0 ; dropped = 0 ;
}

unsigned long smtpd_arfilter_dropped (void)
{
  return dropped ;
}

static void release (void (*out)(char const *, size_t))
{
  if (held) out(hold, held) ;
  held = 0 ;
  idstart = 0 ;
}

/* the id ends at hold[held]: ours is dropped, another's passed on */
static int ours (void)
{
  size_t n = held - idstart ;
  return n == smtpd_config.me.len - 1 && !strncasecmp(hold + idstart, smtpd_config.me.s, n) ;
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
        if (c == ' ' || c == '\t') { st = A_DROP ; continue ; }
        st = A_BOL ;
        /* fall through */
      case A_BOL :
        if (c == '\n') { run++ ; st = A_BODY ; continue ; }
        if ((c | 0x20) != name[0]) { run++ ; st = A_PASS ; continue ; }
        FLUSHRUN() ;
        hold[held++] = c ;
        st = A_NAME ;
        continue ;
      case A_DROP :
        if (c == '\n') st = A_DROPNL ;
        continue ;
      case A_NAME :
        if ((name[held] == ':' ? c : (c | 0x20)) != name[held])
        {
          release(out) ;
          run++ ;
          st = c == '\n' ? A_BOL : A_PASS ;
          continue ;
        }
        hold[held++] = c ;
        if (held == NAME_LEN) st = A_ID ;
        continue ;
      case A_IDNL :
        if (c != ' ' && c != '\t')
        {
          /* the field ended with no authserv-id: not ours */
          release(out) ;
          st = A_BOL ;
          i-- ;
          continue ;
        }
        st = A_ID ;
        /* fall through */
      case A_ID :
        if (held == sizeof hold) { held = 0 ; idstart = 0 ; dropped++ ; st = c == '\n' ? A_DROPNL : A_DROP ; continue ; }
        if (!idstart)
        {
          if (comment) { if (c == ')') comment-- ; else if (c == '(') comment++ ; }
          else if (c == '(') comment = 1 ;
          else if (c != ' ' && c != '\t' && c != '\n') idstart = held ;
        }
        else if (c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '(')
        {
          if (ours()) { held = 0 ; idstart = 0 ; comment = 0 ; dropped++ ; st = c == '\n' ? A_DROPNL : A_DROP ; continue ; }
          hold[held++] = c ;
          release(out) ;
          comment = 0 ;
          st = c == '\n' ? A_BOL : A_PASS ;
          continue ;
        }
        hold[held++] = c ;
        if (c == '\n') st = A_IDNL ;
        continue ;
    }
  }
  FLUSHRUN() ;
#undef FLUSHRUN
}

void smtpd_arfilter_end (void (*out)(char const *, size_t))
{
  if (st == A_NAME || st == A_ID || st == A_IDNL)
  {
    if (idstart && ours()) dropped++ ;
    else release(out) ;
  }
  held = 0 ;
  st = A_BODY ;
}
