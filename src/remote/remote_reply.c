/* An SMTP reply (RFC 5321 4.2): one or more lines "ddd-text", the last
   "ddd text"; kept joined by " / " up to REMOTE_TEXT_MAX. */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "remote.h"

/* -1 with errno at timeout (ETIMEDOUT), end of input (EPIPE) or error */
static int getch (remote_conn *k, char *ch, tain const *deadline)
{
  while (!buffer_len(&k->in))
  {
    ssize_t r = remote_io_fill(k, deadline) ;
    if (r < 0) return -1 ;
    if (!r) return (errno = EPIPE, -1) ;
  }
  buffer_getnofill(&k->in, ch, 1) ;
  return 0 ;
}

static int digit (char c) { return c >= '0' && c <= '9' ; }

static void ehlo_keyword (remote_conn *k, char const *s, size_t len)
{
  if (len >= 10 && !strncasecmp(s, "PIPELINING", 10) && (len == 10 || s[10] == ' ')) k->pipelining = 1 ;
  else if (len >= 8 && !strncasecmp(s, "STARTTLS", 8) && (len == 8 || s[8] == ' ')) k->starttls = 1 ;
  else if (len >= 8 && !strncasecmp(s, "8BITMIME", 8) && (len == 8 || s[8] == ' ')) k->eightbitmime = 1 ;
  else if (len >= 8 && !strncasecmp(s, "SMTPUTF8", 8) && (len == 8 || s[8] == ' ')) k->smtputf8 = 1 ;
  else if (len >= 4 && !strncasecmp(s, "SIZE", 4) && (len == 4 || s[4] == ' '))
  {
    uint64_t n = 0 ;
    size_t i = 5 ;
    while (i < len && digit(s[i]) && n < UINT64_MAX / 10 - 10) n = n * 10 + (s[i++] - '0') ;
    k->hassize = n > 0 ;  /* SIZE 0 or no number: no fixed limit (RFC 1870) */
    k->sizemax = n ;
  }
}

/* the whole reply within timeoutremote, not each read: a server that
   sends it a byte at a time is as slow as one that sends nothing */
int remote_reply_get (remote_conn *k, int ehlo)
{
  tain deadline ;
  unsigned int lines = 0 ;
  int code = -1 ;
  k->reply.len = 0 ;
  remote_deadline(&deadline, &k->timeout, &k->end) ;
  for (;;)
  {
    char line[REPLY_LINE_KEEP] ;
    size_t len = 0, total = 0 ;
    char ch ;
    int more ;
    for (;;)
    {
      if (getch(k, &ch, &deadline) < 0) return -1 ;
      if (ch == '\n') break ;
      if (++total > REPLY_LINE_MAX) return (errno = EMSGSIZE, -1) ;
      if (len < sizeof line) line[len++] = ch ;
    }
    if (total <= sizeof line && len && line[len-1] == '\r') len-- ;
    if (++lines > REPLY_LINES_MAX) return (errno = EMSGSIZE, -1) ;
    if (len < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2]) || line[0] < '2' || line[0] > '5'
     || (len > 3 && line[3] != ' ' && line[3] != '-'))
      return (errno = EPROTO, -1) ;
    if (code < 0) code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') ;
    more = len > 3 && line[3] == '-' ;
    if (k->reply.len < REMOTE_TEXT_MAX)
      if ((k->reply.len && !stralloc_cats(&k->reply, " / ")) || !stralloc_catb(&k->reply, line, len)) return -1 ;
    if (ehlo && lines > 1 && len > 4) ehlo_keyword(k, line + 4, len - 4) ;
    if (!more) return code ;
  }
}
