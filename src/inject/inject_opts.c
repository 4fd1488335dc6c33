/* The sendmail command line as cron, mail(1), PHP, git send-email and
   mutt write it. Options end at "--" or the first operand; letters may
   be grouped (-ti), a value glued or apart (-fme, -f me). Every option
   inject(8) lists as ignored is accepted and has no effect. */

#include <string.h>
#include <skalibs/strerr.h>
#include "inject.h"

#define USAGE "inject [ -t ] [ -i ] [ -f sender ] [ -F fullname ] [ -oi ] [ -odi ] [ -oem ] [ -- ] recipient ... | inject -bp | inject -bs"

/* options without a value that change nothing here: verbose, me too,
   no aliasing, initial submission, gateway submission */
#define IGNORED_FLAGS "vmnUG"
/* options with a value that change nothing here: body type, DSN notify,
   DSN return, DSN envelope id, syslog tag, hop count, long-form option */
#define IGNORED_VALUED "BNRVLhO"

static void usage (char c)
{
  char s[2] = { c, 0 } ;
  strerr_warnw2x("unknown option: -", s) ;
  strerr_dieusage(INJECT_EUSAGE, USAGE) ;
}

/* -b: -bm (the default) delivers mail, -bp lists the queue (mailq),
   -bs speaks SMTP on stdin and stdout */
static char mode (char const *v)
{
  if (!strcmp(v, "m") || !strcmp(v, "p") || !strcmp(v, "s")) return v[0] ;
  strerr_dief3x(INJECT_EUSAGE, "-b", v, " is not supported: only -bm (the default), -bp and -bs") ;
}

void inject_opts_parse (inject_opts *o, int argc, char const *const *argv)
{
  int i = 1 ;
  o->extract = 0 ; o->dots = 1 ; o->sender = 0 ; o->fullname = 0 ; o->mode = 'm' ;
  for (; i < argc ; i++)
  {
    char const *a = argv[i] ;
    if (a[0] != '-' || !a[1]) break ;
    if (!strcmp(a, "--")) { i++ ; break ; }
    for (size_t j = 1 ; a[j] ; j++)
    {
      char c = a[j] ;
      char const *v ;
      if (c == 't') { o->extract = 1 ; continue ; }
      if (c == 'i') { o->dots = 0 ; continue ; }
      if (strchr(IGNORED_FLAGS, c)) continue ;
      if (!strchr("frFob" IGNORED_VALUED, c)) usage(c) ;
      /* the rest of this argument is the value, else the next one */
      v = a[j + 1] ? a + j + 1 : i + 1 < argc ? argv[++i] : 0 ;
      if (!v) strerr_dieusage(INJECT_EUSAGE, USAGE) ;
      if (c == 'f' || c == 'r') o->sender = v ;
      else if (c == 'F') o->fullname = v ;
      else if (c == 'o' && !strcmp(v, "i")) o->dots = 0 ;
      else if (c == 'b') o->mode = mode(v) ;
      break ;
    }
  }
  o->rcpts = argv + i ;
  o->nrcpts = (unsigned int)(argc - i) ;
}
