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
#include "table_compile.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* bytes per line, newline excluded: a longest key and value, plus 1024
   for the indentation and blanks around them; a longer line is an error
   so that no line is ever held in more than this */
#define LINE_MAX_ (TABLE_KEY_MAX + TABLE_VALUE_MAX + 1024)
/* enough to fix a table in one pass, few enough to read */
#define ERRORS_MAX 10

/* every key seen: its line number (unsigned long), the key, NUL; the
   tree indexes it by offset to find duplicates */
static stralloc keys = STRALLOC_ZERO ;

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

/* Checks the line s of n bytes (room for n+1) and adds its entry, if
   any, to cm when add is set. Returns 0 if well-formed, else the reason. */
static char const *entry (char *s, size_t n, unsigned long num, avltree *seen, struct cdb_make *cm, int add, char const *tmp)
{
  static char dup[40 + ULONG_FMT] = "duplicate key, first at line " ;
  size_t i = 0, k, v ;
  uint32_t d ;
  for (size_t j = 0 ; j < n ; j++)
    if (((unsigned char)s[j] < 32 && s[j] != '\t') || s[j] == 127)
      return "control character (only tab is allowed)" ;
  while (i < n && blank(s[i])) i++ ;
  if (i == n || s[i] == '#') return 0 ;
  for (k = i ; i < n && !blank(s[i]) ; i++)
    if (s[i] >= 'A' && s[i] <= 'Z') s[i] += 'a' - 'A' ;
  if (i - k > TABLE_KEY_MAX) return "key longer than " STR(TABLE_KEY_MAX) " bytes" ;
  for (v = i ; v < n && blank(s[v]) ; v++) ;
  while (n > v && blank(s[n-1])) n-- ;
  if (n - v > TABLE_VALUE_MAX) return "value longer than " STR(TABLE_VALUE_MAX) " bytes" ;
  if (add && cdb_make_add(cm, s + k, i - k, s + v, n - v) < 0) table_compile_die("write ", tmp) ;
  s[i] = 0 ;  /* the key's end: a blank, or the line's end */
  if (avltree_search(seen, s + k, &d))
  {
    unsigned long first ;
    size_t len = sizeof "duplicate key, first at line " - 1 ;
    memcpy(&first, keys.s + d, sizeof first) ;
    dup[len + ulong_fmt(dup + len, first)] = 0 ;
    return dup ;
  }
  d = keys.len ;
  /* offsets are 32-bit; so is the cdb format, which fails first */
  if (keys.len > UINT32_MAX - sizeof num - TABLE_KEY_MAX - 1) return "table too large for a cdb" ;
  if (!stralloc_catb(&keys, (char const *)&num, sizeof num)
   || !stralloc_catb(&keys, s + k, i - k + 1)
   || !avltree_insert(seen, d))
    table_compile_die("allocate", "") ;
  return 0 ;
}

static void report (char const *file, unsigned long num, char const *reason)
{
  char fmt[ULONG_FMT] ;
  fmt[ulong_fmt(fmt, num)] = 0 ;
  buffer_puts(buffer_2, file) ;
  buffer_puts(buffer_2, ":") ;
  buffer_puts(buffer_2, fmt) ;
  buffer_puts(buffer_2, ": ") ;
  buffer_puts(buffer_2, reason) ;
  buffer_putflush(buffer_2, "\n", 1) ;
}

unsigned int table_compile_read (int fd, char const *file, struct cdb_make *cm, char const *tmp)
{
  char in[BUFFER_INSIZE] ;
  buffer b = BUFFER_INIT(&buffer_read, fd, in, sizeof in) ;
  char line[LINE_MAX_ + 1] ;  /* + 1: getlnmax needs room for the newline */
  avltree seen ;
  unsigned long num = 0 ;
  unsigned int errors = 0 ;
  int r = 1 ;
  avltree_init(&seen, 64, 3, 8, &key_dtok, &key_cmp, 0) ;
  while (r > 0)
  {
    char const *reason ;
    size_t n = 0 ;
    r = getlnmax(&b, line, sizeof line, &n, '\n') ;
    if (!r && !n) break ;
    num++ ;
    if (r < 0 && errno == ERANGE)
    {
      reason = "line longer than " STR(LINE_MAX_) " bytes" ;
      while (n = 0, (r = getlnmax(&b, line, sizeof line, &n, '\n')) < 0 && errno == ERANGE) ;
    }
    else reason = entry(line, n, num, &seen, cm, !errors, tmp) ;
    if (r < 0) table_compile_die("read ", file) ;
    if (!reason) continue ;
    report(file, num, reason) ;
    if (++errors >= ERRORS_MAX)
    {
      strerr_warnw3x("stopped reading ", file, " after " STR(ERRORS_MAX) " malformed lines") ;
      break ;
    }
  }
  avltree_free(&seen) ;
  return errors ;
}
