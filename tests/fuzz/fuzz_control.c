/* Control files and tables: control_readfile and control_readuint
   (src/lib/control_*), table-compile's reader (table_compile_read)
   checked against table_lookup of the cdb it wrote, and the users
   table's values (resolve_users_parse). Input: byte 0 picks what, the
   rest is the file or value. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cdb.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "control.h"
#include "resolve.h"
#include "table.h"
#include "fuzz.h"

static void readfile (char const *s, size_t len)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *nl = memchr(s, '\n', len) ;
  size_t first = nl ? (size_t)(nl - s) : len, n = first ;
  unsigned long u ;
  int r, ru ;
  int fd = open("control/x", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) ;
  FUZZ_ASSERT(fd >= 0 && write(fd, s, len) == (ssize_t)len && !close(fd)) ;
  r = control_readline(&sa, "x") ;
  /* read up to CONTROL_LINE_MAX + 1 bytes: a longer first line is an error */
  if (first > CONTROL_LINE_MAX || memchr(s, 0, first))
  {
    FUZZ_ASSERT(r < 0 && errno == EINVAL) ;
    stralloc_free(&sa) ;
    return ;
  }
  FUZZ_ASSERT(r == 1) ;
  while (n && (s[n-1] == ' ' || s[n-1] == '\t' || s[n-1] == '\r')) n-- ;
  FUZZ_ASSERT(sa.len == n && !memcmp(sa.s, s, n)) ;
  ru = control_readuint(&u, "x", 7) ;
  {
    unsigned long v ;
    char *z = malloc(n + 1) ;
    size_t k ;
    memcpy(z, s, n) ; z[n] = 0 ;
    k = ulong_scan(z, &v) ;
    FUZZ_ASSERT(ru == (k && k == n ? 1 : -1)) ;
    if (ru == 1) FUZZ_ASSERT(u == v) ;
    free(z) ;
  }
  stralloc_free(&sa) ;
}

/* table-compile(8)'s format, the reference: a line is blank, a comment,
   or key (lowercased), blanks, value (trailing blanks dropped) */
static int blank (char c) { return c == ' ' || c == '\t' ; }

static void table (char const *s, size_t len)
{
  struct cdb_make cm ;
  unsigned int errors ;
  int fd, bad = 0 ;
  size_t pos = 0, nkeys = 0 ;
  char **keys = malloc(sizeof *keys * (len / 2 + 1)) ;
  stralloc v = STRALLOC_ZERO ;
  unlink("t.cdb") ;
  fd = open("t.cdb", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) ;
  FUZZ_ASSERT(fd >= 0 && cdb_make_start(&cm, fd) >= 0) ;
  fuzz_input_fd(0, (uint8_t const *)s, len) ;
  errors = table_compile_read(0, "fuzz", &cm, "t.cdb") ;
  FUZZ_ASSERT(cdb_make_finish(&cm) >= 0 && !close(fd)) ;
  /* every entry up to the first bad line is there; a bad line is reported */
  while (pos < len && !bad)
  {
    char const *nl = memchr(s + pos, '\n', len - pos) ;
    size_t n = nl ? (size_t)(nl - (s + pos)) : len - pos, i = 0, k, e, w ;
    char const *l = s + pos ;
    pos += n + 1 ;
    if (n > TABLE_KEY_MAX + TABLE_VALUE_MAX + 1024) { bad = 1 ; break ; }
    for (size_t j = 0 ; j < n ; j++)
      if (((unsigned char)l[j] < 32 && l[j] != '\t') || l[j] == 127) bad = 1 ;
    if (bad) break ;
    while (i < n && blank(l[i])) i++ ;
    if (i == n || l[i] == '#') continue ;
    for (k = i ; i < n && !blank(l[i]) ; i++) ;
    e = i ;
    for (w = i ; w < n && blank(l[w]) ; w++) ;
    while (n > w && blank(l[n-1])) n-- ;
    if (e - k > TABLE_KEY_MAX || n - w > TABLE_VALUE_MAX) { bad = 1 ; break ; }
    keys[nkeys] = malloc(e - k + 1) ;
    for (size_t j = k ; j < e ; j++) keys[nkeys][j - k] = l[j] >= 'A' && l[j] <= 'Z' ? l[j] + 32 : l[j] ;
    keys[nkeys][e - k] = 0 ;
    for (size_t j = 0 ; j < nkeys ; j++) if (!strcmp(keys[j], keys[nkeys])) bad = 1 ;
    nkeys++ ;
    if (bad) break ;
    FUZZ_ASSERT(table_lookup("t.cdb", l + k, e - k, &v) == 1) ;
    FUZZ_ASSERT(v.len == n - w && !memcmp(v.s, l + w, n - w)) ;
  }
  FUZZ_ASSERT(!errors == !bad) ;
  for (size_t j = 0 ; j < nkeys ; j++) free(keys[j]) ;
  free(keys) ;
  stralloc_free(&v) ;
}

static void users (char const *s, size_t len)
{
  resolve_dest d = RESOLVE_DEST_ZERO ;
  int r = resolve_users_parse(&d, s, len) ;
  if (r == 1)
  {
    char const *account = resolve_str(&d, account), *home = resolve_str(&d, home) ;
    FUZZ_ASSERT(d.kind == RESOLVE_USER && *account && strlen(account) < len && home[0] == '/') ;
    FUZZ_ASSERT(!memcmp(s, account, strlen(account)) && s[strlen(account)] == ':') ;
    FUZZ_ASSERT(strlen(home) <= len && !memcmp(s + len - strlen(home), home, strlen(home))) ;
    FUZZ_ASSERT(d.uid != (uid_t)-1 && d.gid != (gid_t)-1) ;
  }
  else FUZZ_ASSERT(r < 0 && errno == EINVAL) ;
  stralloc_free(&d.sa) ;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  fuzz_home() ;
  fuzz_quiet() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char *s ;
  if (!size) return 0 ;
  /* a read past the end is caught, in skalibs too */
  s = fuzz_guard(data + 1, size - 1) ;
  switch (data[0] % 3)
  {
    case 0 : readfile(s, size - 1) ; break ;
    case 1 : table(s, size - 1) ; break ;
    case 2 : users(s, size - 1) ; break ;
  }
  return 0 ;
}
