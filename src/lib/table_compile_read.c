#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <cdb.h>
#include <skalibs/avltree.h>
#include <skalibs/buffer.h>
#include <skalibs/skamisc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "table.h"

/* bytes per line, newline excluded: a longest key and value, plus 1024
   for the indentation and blanks around them; a longer line is an error
   so that no line is ever held in more than this */
#define INPUT_LINE_MAX (TABLE_KEY_MAX + TABLE_VALUE_MAX + 1024)
/* enough to fix a table in one pass, few enough to read */
#define ERRORS_MAX 10

/* what is wrong with a line: text, then n and tail if tail is set */
struct reason { char const *text ; unsigned long n ; char const *tail ; } ;

/* every key seen: its line number (unsigned long), the key, NUL; the
   tree indexes it by offset to find duplicates */
static stralloc keys = STRALLOC_ZERO ;
static avltree seen ;
static struct cdb_make *out ;
static char const *outname ;

static void *key_dtok (uint32_t d, void *aux)
{
  (void)aux ;
  return keys.s + d + sizeof(unsigned long) ;
}

static int key_cmp (void const *a, void const *b, void *aux)
{
  (void)aux ;
  return strcmp(a, b) ;
}

static int blank (char c)
{
  return c == ' ' || c == '\t' ;
}

static int bad (struct reason *why, char const *text, unsigned long n, char const *tail)
{
  why->text = text ; why->n = n ; why->tail = tail ;
  return 0 ;
}

/* Checks the line s of n bytes (room for n+1) and adds its entry, if
   any, to out when add is set. Returns 1 if well-formed, else 0 and why. */
static int entry (char *s, size_t n, unsigned long num, int add, struct reason *why)
{
  size_t i = 0, k, v ;
  uint32_t d ;
  for (size_t j = 0 ; j < n ; j++)
    if (((unsigned char)s[j] < 32 && s[j] != '\t') || s[j] == 127)
      return bad(why, "control character at column ", j + 1, " (only tab is allowed)") ;
  while (i < n && blank(s[i])) i++ ;
  if (i == n || s[i] == '#') return 1 ;
  for (k = i ; i < n && !blank(s[i]) ; i++)
    if (s[i] >= 'A' && s[i] <= 'Z') s[i] += 'a' - 'A' ;
  if (i - k > TABLE_KEY_MAX) return bad(why, "key longer than ", TABLE_KEY_MAX, " bytes") ;
  for (v = i ; v < n && blank(s[v]) ; v++) ;
  while (n > v && blank(s[n-1])) n-- ;
  if (n - v > TABLE_VALUE_MAX) return bad(why, "value longer than ", TABLE_VALUE_MAX, " bytes") ;
  s[i] = 0 ;  /* the key's end: a blank, or the line's end */
  if (avltree_search(&seen, s + k, &d))
  {
    unsigned long first ;
    memcpy(&first, keys.s + d, sizeof first) ;
    return bad(why, "duplicate key, first at line ", first, "") ;
  }
  /* offsets are 32-bit; so is the cdb format, which fails first */
  if (keys.len > UINT32_MAX - sizeof num - TABLE_KEY_MAX - 1)
    return bad(why, "table too large for a cdb", 0, 0) ;
  d = keys.len ;
  if (!stralloc_catb(&keys, (char const *)&num, sizeof num)
   || !stralloc_catb(&keys, s + k, i - k + 1)
   || !avltree_insert(&seen, d))
    table_compile_die(outname, "allocate", "") ;
  if (add && cdb_make_add(out, s + k, i - k, s + v, n - v) < 0) table_compile_die(outname, "write ", outname) ;
  return 1 ;
}

static void report (char const *file, unsigned long num, struct reason const *why)
{
  char fmt[ULONG_FMT] ;
  fmt[ulong_fmt(fmt, num)] = 0 ;
  buffer_puts(buffer_2, file) ;
  buffer_puts(buffer_2, ":") ;
  buffer_puts(buffer_2, fmt) ;
  buffer_puts(buffer_2, ": ") ;
  buffer_puts(buffer_2, why->text) ;
  if (why->tail)
  {
    fmt[ulong_fmt(fmt, why->n)] = 0 ;
    buffer_puts(buffer_2, fmt) ;
    buffer_puts(buffer_2, why->tail) ;
  }
  buffer_putflush(buffer_2, "\n", 1) ;
}

unsigned int table_compile_read (int fd, char const *file, struct cdb_make *cm, char const *tmp)
{
  char in[BUFFER_INSIZE] ;
  buffer b = BUFFER_INIT(&buffer_read, fd, in, sizeof in) ;
  /* + 2: the newline, and a byte to tell a line too long from a full one */
  char line[INPUT_LINE_MAX + 2] ;
  unsigned long num = 0 ;
  unsigned int errors = 0 ;
  int r = 1 ;
  out = cm ;
  outname = tmp ;
  keys.len = 0 ;  /* each call reads one table from scratch */
  avltree_init(&seen, 64, 3, 8, &key_dtok, &key_cmp, 0) ;
  while (r > 0)
  {
    struct reason why ;
    size_t n = 0 ;
    r = getlnmax(&b, line, sizeof line, &n, '\n') ;
    if (r < 0 && errno == ERANGE)
    {
      /* too long: skip the rest of the line, unless getlnmax took it all */
      if (line[n-1] == '\n') r = 1 ;
      else while (n = 0, (r = getlnmax(&b, line, sizeof line, &n, '\n')) < 0 && errno == ERANGE) ;
      n = sizeof line ;
    }
    if (r < 0) table_compile_die(outname, "read ", file) ;
    if (!r && !n) break ;
    num++ ;
    if (r > 0 && line[n-1] == '\n') n-- ;  /* skalibs 2.13 counts it in n */
    if (n > INPUT_LINE_MAX) bad(&why, "line longer than ", INPUT_LINE_MAX, " bytes") ;
    else if (entry(line, n, num, !errors, &why)) continue ;
    report(file, num, &why) ;
    if (++errors >= ERRORS_MAX)
    {
      char fmt[ULONG_FMT] ;
      fmt[ulong_fmt(fmt, num)] = 0 ;
      strerr_warnw4x("too many malformed lines, stopped reading ", file, " at line ", fmt) ;
      break ;
    }
  }
  avltree_free(&seen) ;
  return errors ;
}
