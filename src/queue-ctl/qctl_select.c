#include <string.h>
#include <strings.h>
#include <skalibs/genalloc.h>
#include <skalibs/strerr.h>
#include "qctl.h"
#include "queue.h"

static stralloc file = STRALLOC_ZERO ;

/* a recipient matches: contains o->to; is still to deliver at o->domain */
static int rcpt_ok (struct qctl_opts const *o, char const *addr, int waiting)
{
  char const *at ;
  if (o->to && !strcasestr(addr, o->to)) return 0 ;
  if (!o->domain) return 1 ;
  at = strrchr(addr, '@') ;
  return waiting && at && !strcasecmp(at + 1, o->domain) ;
}

int qctl_match (struct qctl_opts const *o, qread_msg const *m)
{
  size_t pos = 0 ;
  int ok = !o->to && !o->domain ;
  if (o->any && !qread_match(m, o->any)) return 0 ;
  if (o->from && !strcasestr(m->sender, o->from)) return 0 ;
  if (m->unsorted)
  {
    char const *a ;
    while (!ok && (a = env_next_rcpt(&m->env, &pos))) ok = rcpt_ok(o, a, 1) ;
  }
  else
  {
    state_rcpt r ;
    pos = m->st.rcpts_at ;
    while (!ok && state_next_rcpt(&m->st, m->s, &pos, &r)) ok = rcpt_ok(o, r.addr, r.status == ST_TODO) ;
  }
  return ok ;
}

/* a message the action has something to do with: a hold needs one not
   held yet, a retry one not held; a release only the held */
static int wanted (char action, char const *id)
{
  switch (action)
  {
    case QCTL_HOLD : case QCTL_RETRY : return !qread_held(id) ;
    case QCTL_RELEASE : return qread_held(id) ;
    default : return 1 ;
  }
}

static void add (stralloc *sel, char const *id)
{
  if (!stralloc_catb(sel, id, strlen(id) + 1)) strerr_diefu1sys(111, "allocate") ;
}

unsigned int qctl_select (struct qctl_opts const *o, stralloc *sel)
{
  unsigned int missing = 0 ;
  stralloc names = STRALLOC_ZERO, offs = STRALLOC_ZERO ;
  qread_msg m ;
  /* ids named: each one, whatever its state (send says what it did) */
  for (unsigned int i = 0 ; i < o->nids ; i++)
  {
    if (!qread_get(&m, &file, o->ids[i])) { strerr_warnw2x("not in the queue: ", o->ids[i]) ; missing++ ; continue ; }
    add(sel, o->ids[i]) ;
  }
  if (o->nids) return missing ;
  qread_all(&names, &offs) ;
  for (size_t i = 0 ; i < genalloc_len(size_t, &offs) ; i++)
  {
    char const *id = names.s + genalloc_s(size_t, &offs)[i] ;
    if (!wanted(o->action, id) || !qread_get(&m, &file, id) || !qctl_match(o, &m)) continue ;
    add(sel, id) ;
  }
  stralloc_free(&names) ;
  stralloc_free(&offs) ;
  return 0 ;
}
