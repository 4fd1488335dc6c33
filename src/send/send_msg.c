#include <stdint.h>
#include <string.h>
#include <skalibs/alloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "frame.h"
#include "send.h"

static stralloc out = STRALLOC_ZERO ;

static void put_field (char const *s, size_t len)
{
  if (!stralloc_catb(&out, s, len) || !stralloc_0(&out)) strerr_diefu1sys(111, "allocate") ;
}

static void put_id_request (struct child *c, char letter, char const *id)
{
  out.len = 0 ;
  if (!stralloc_catb(&out, &letter, 1)) strerr_diefu1sys(111, "allocate") ;
  put_field(id, strlen(id)) ;
  if (!stralloc_0(&out)) strerr_diefu1sys(111, "allocate") ;
  send_child_put(c, out.s, out.len) ;
}

static void log_msg (char const *what, struct msg const *m, unsigned long uid)
{
  send_log_start(what) ; send_log_add(m->id) ;
  send_log_add(": bytes ") ; send_log_addu(m->size) ;
  send_log_add(" from <") ; send_log_addb(MSG_SENDER(m), strlen(MSG_SENDER(m))) ;
  send_log_add("> uid ") ; send_log_addu(uid) ;
  send_log_add(" rcpts ") ; send_log_addu(m->nrcpts) ;
  send_log_end() ;
}

/* "N<id>" (just sorted) or "O<id>" (a state found at start-up) then
   the state file's fields, as record sends them */
void send_msg_load (char const *s, size_t len, uint32_t now)
{
  size_t idlen = strlen(s) ;
  state_msg sm ;
  state_rcpt sr ;
  struct msg *m ;
  size_t pos ;
  if ((s[0] != 'N' && s[0] != 'O') || idlen - 1 > QUEUE_ID_MAX || !queue_id_valid(s + 1))
  {
    strerr_warnw1x("record sent a malformed message record") ;
    return ;
  }
  if (send_index_get(s + 1)) return ;  /* already known: a repeat from a scan */
  if (!state_parse(&sm, s + idlen + 1, len - idlen - 1))
  {
    strerr_warnw2x("record sent a malformed state for ", s + 1) ;
    return ;
  }
  m = alloc(sizeof *m) ;
  if (!m) strerr_diefu1sys(111, "allocate") ;
  memset(m, 0, sizeof *m) ;
  memcpy(m->id, s + 1, idlen) ;
  m->birth = queue_id_birth(m->id) ;
  m->size = sm.size ;
  m->rcpts = alloc(sm.nrcpts * sizeof *m->rcpts) ;
  if (!m->rcpts || !stralloc_cats(&m->strings, sm.sender) || !stralloc_0(&m->strings))
    strerr_diefu1sys(111, "allocate") ;
  m->nrcpts = sm.nrcpts ;
  pos = sm.rcpts_at ;
  for (unsigned int i = 0 ; state_next_rcpt(&sm, s + idlen + 1, &pos, &sr) ; i++)
  {
    struct rcpt *r = m->rcpts + i ;
    memset(r, 0, sizeof *r) ;
    r->addr = m->strings.len ;
    if (!stralloc_cats(&m->strings, sr.addr) || !stralloc_0(&m->strings)) strerr_diefu1sys(111, "allocate") ;
    r->localname = m->strings.len ;
    if (!stralloc_cats(&m->strings, sr.localname) || !stralloc_0(&m->strings)) strerr_diefu1sys(111, "allocate") ;
    r->status = sr.status ;
    r->channel = sr.channel ;
    r->attempts = sr.attempts ;
    r->lasttry = sr.lasttry ;
    if (sr.status == ST_TODO) m->todo++ ;
    else if (sr.status == ST_FAILED) m->failed++ ;
  }
  if (!send_index_put(m)) strerr_diefu1sys(111, "allocate") ;
  log_msg(s[0] == 'N' ? "new msg " : "loaded msg ", m, sm.uid) ;
  send_ops_loaded(m) ;
  for (unsigned int i = 0 ; i < m->nrcpts ; i++)
  {
    struct rcpt *r = m->rcpts + i ;
    if (r->status != ST_TODO) continue ;
    if (!r->attempts) { r->nexttry = now ; send_sched_rcpt(m, i, now) ; }
    else send_sched_retry(m, i, now) ;
  }
  send_msg_check(m, now) ;
}

/* "U<id>" index status attempts lasttry "=text": record rewrites the
   recipient's fixed field; D, F and B are fsynced before its ack. */
void send_msg_update (struct msg *m, unsigned int i, char const *text, size_t textlen)
{
  struct rcpt *r = m->rcpts + i ;
  char fmt[UINT32_FMT] ;
  out.len = 0 ;
  if (!stralloc_catb(&out, "U", 1)) strerr_diefu1sys(111, "allocate") ;
  put_field(m->id, strlen(m->id)) ;
  put_field(fmt, uint32_fmt(fmt, i)) ;
  put_field(&r->status, 1) ;
  put_field(fmt, uint32_fmt(fmt, r->attempts)) ;
  put_field(fmt, uint32_fmt(fmt, r->lasttry)) ;
  if (textlen > STATE_RESULT_MAX) textlen = STATE_RESULT_MAX ;
  if (!stralloc_catb(&out, "=", 1)) strerr_diefu1sys(111, "allocate") ;
  put_field(text, textlen) ;
  if (!stralloc_0(&out)) strerr_diefu1sys(111, "allocate") ;
  send_child_put(&send_children[C_RECORD], out.s, out.len) ;
  m->acks++ ;
}

/* A message whose recipients are all settled is bounced (once its
   failures are on disk) or removed: once every result is on disk, the
   body first, by clean, then the state, by record. A crash between the
   two leaves a finished state without a body, which the next start
   finishes removing; never a recipient to deliver without its body. */
void send_msg_check (struct msg *m, uint32_t now)
{
  (void)now ;
  if (m->doomed && m->phase == PH_ACTIVE) send_ops_doom(m) ;
  if (m->phase != PH_ACTIVE || m->todo || m->busy || m->acks) return ;
  if (m->failed)
  {
    if (!m->bouncing) send_bounce_want(m) ;
    return ;
  }
  m->phase = PH_REMOVING ;
  put_id_request(&send_children[C_CLEAN], 'B', m->id) ;
}

void send_msg_acked (char const *id, uint32_t now)
{
  struct msg *m = send_index_get(id) ;
  if (!m || !m->acks) { strerr_warnw2x("record acknowledged an unknown update for ", id) ; return ; }
  m->acks-- ;
  send_msg_check(m, now) ;
}

void send_msg_body_removed (char const *id)
{
  struct msg *m = send_index_get(id) ;
  if (!m || m->phase != PH_REMOVING) { strerr_warnw2x("clean removed an unknown body: ", id) ; return ; }
  put_id_request(&send_children[C_RECORD], 'X', id) ;
}

void send_msg_state_removed (char const *id)
{
  struct msg *m = send_index_get(id) ;
  if (!m || m->phase != PH_REMOVING) { strerr_warnw2x("record removed an unknown state: ", id) ; return ; }
  send_log_start("end msg ") ; send_log_add(m->id) ; send_log_end() ;
  send_index_del(m) ;
  m->gone = 1 ;
  send_msg_release(m) ;
}

/* A message out of the queue is freed once no scheduler entry points to
   it: stale entries (recipients a remote job took along) may still wait
   in a ready queue. */
void send_msg_release (struct msg *m)
{
  if (!m->gone || m->refs) return ;
  stralloc_free(&m->strings) ;
  alloc_free(m->rcpts) ;
  alloc_free(m) ;
}
