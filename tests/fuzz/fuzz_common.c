/* tests/fuzz/fuzz.h */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cdb.h>
#include <skalibs/buffer.h>
#include "fuzz.h"

jmp_buf fuzz_jmp ;
volatile int fuzz_armed = 0 ;
volatile int fuzz_exitcode = 0 ;

extern void __real__exit (int) __attribute__((noreturn)) ;
void __wrap__exit (int code) __attribute__((noreturn)) ;
void __wrap__exit (int code)
{
  if (fuzz_armed)
  {
    fuzz_armed = 0 ;
    fuzz_exitcode = code ;
    longjmp(fuzz_jmp, 1) ;
  }
  __real__exit(code) ;
}

static void execed (void) __attribute__((noreturn)) ;
static void execed (void)
{
  fuzz_armed = 0 ;
  fuzz_exitcode = FUZZ_EXECED ;
  longjmp(fuzz_jmp, 1) ;
}

extern int __real_execve (char const *, char *const *, char *const *) ;
int __wrap_execve (char const *path, char *const *argv, char *const *envp) ;
int __wrap_execve (char const *path, char *const *argv, char *const *envp)
{
  if (fuzz_armed) execed() ;
  return __real_execve(path, argv, envp) ;
}

extern int __real_execv (char const *, char *const *) ;
int __wrap_execv (char const *path, char *const *argv) ;
int __wrap_execv (char const *path, char *const *argv)
{
  if (fuzz_armed) execed() ;
  return __real_execv(path, argv) ;
}

extern int __real_execvp (char const *, char *const *) ;
int __wrap_execvp (char const *file, char *const *argv) ;
int __wrap_execvp (char const *file, char *const *argv)
{
  if (fuzz_armed) execed() ;
  return __real_execvp(file, argv) ;
}

extern int __real_execvpe (char const *, char *const *, char *const *) ;
int __wrap_execvpe (char const *file, char *const *argv, char *const *envp) ;
int __wrap_execvpe (char const *file, char *const *argv, char *const *envp)
{
  if (fuzz_armed) execed() ;
  return __real_execvpe(file, argv, envp) ;
}

void fuzz_fail (char const *what, char const *file, int line)
{
  fprintf(stderr, "\n%s:%d: invariant broken: %s\n", file, line, what) ;
  abort() ;
}

static int memfds[64] ;
static char outbuf[1 << 20] ;

static int memfd_of (int fd)
{
  if (fd < 0 || fd >= 64) abort() ;
  if (!memfds[fd])
  {
    int m = memfd_create("fuzz", MFD_CLOEXEC) ;
    /* far from the low numbers the programs use */
    int h = m < 0 ? -1 : fcntl(m, F_DUPFD_CLOEXEC, 200 + fd) ;
    if (h < 0) { perror("fuzz: memfd") ; abort() ; }
    close(m) ;
    memfds[fd] = h ;
  }
  return memfds[fd] ;
}

void fuzz_input_fd (int fd, uint8_t const *s, size_t len)
{
  int m = memfd_of(fd) ;
  if (ftruncate(m, 0) < 0 || (len && pwrite(m, s, len, 0) != (ssize_t)len)
   || dup2(m, fd) < 0 || lseek(fd, 0, SEEK_SET) < 0)
  { perror("fuzz: input") ; abort() ; }
}

void fuzz_output_fd (int fd)
{
  int m = memfd_of(fd) ;
  if (ftruncate(m, 0) < 0 || dup2(m, fd) < 0 || lseek(fd, 0, SEEK_SET) < 0)
  { perror("fuzz: output") ; abort() ; }
}

char const *fuzz_output (int fd, size_t *len)
{
  ssize_t r = pread(memfd_of(fd), outbuf, sizeof outbuf, 0) ;
  if (r < 0) { perror("fuzz: read output") ; abort() ; }
  *len = (size_t)r ;
  return outbuf ;
}

static char home[4096] ;

static int rm1 (char const *path, struct stat const *st, int flag, struct FTW *ftw)
{
  (void)st ; (void)flag ; (void)ftw ;
  remove(path) ;
  return 0 ;
}

static void rmhome (void)
{
  if (home[0]) nftw(home, &rm1, 16, FTW_DEPTH | FTW_PHYS) ;
}

char const *fuzz_home (void)
{
  if (home[0]) return home ;
  char const *tmp = getenv("TMPDIR") ;
  if (!tmp || !*tmp || strlen(tmp) > sizeof home - 32) tmp = "/tmp" ;
  strcpy(home, tmp) ;
  strcat(home, "/postern-fuzz-XXXXXX") ;
  if (!mkdtemp(home) || chdir(home) < 0 || mkdir("control", 0755) < 0 || setenv("POSTERN_HOME", home, 1) < 0)
  { perror("fuzz: home") ; abort() ; }
  atexit(&rmhome) ;
  return home ;
}

void fuzz_cdb (char const *path, ...)
{
  struct cdb_make cm ;
  va_list ap ;
  char const *k ;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) ;
  if (fd < 0 || cdb_make_start(&cm, fd) < 0) { perror(path) ; abort() ; }
  va_start(ap, path) ;
  while ((k = va_arg(ap, char const *)))
  {
    char const *v = va_arg(ap, char const *) ;
    if (cdb_make_add(&cm, k, strlen(k), v, strlen(v)) < 0) { perror(path) ; abort() ; }
  }
  va_end(ap) ;
  if (cdb_make_finish(&cm) < 0 || close(fd) < 0) { perror(path) ; abort() ; }
}

void fuzz_file (char const *path, char const *s)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) ;
  if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s) || close(fd) < 0) { perror(path) ; abort() ; }
}

void fuzz_quiet (void)
{
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC) ;
  if (fd < 0) { perror("/dev/null") ; abort() ; }
  buffer_2->fd = fd ;
}

void const *fuzz_find (void const *hay, size_t n, void const *needle, size_t m)
{
  return memmem(hay, n, needle, m) ;
}

#define GUARD_ROOM (4u << 20)

char *fuzz_guard (void const *s, size_t len)
{
  static char *region = 0 ;
  long page = sysconf(_SC_PAGESIZE) ;
  if (!region)
  {
    region = mmap(0, GUARD_ROOM + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ;
    if (region == MAP_FAILED || mprotect(region + GUARD_ROOM, page, PROT_NONE) < 0) { perror("fuzz: guard") ; abort() ; }
  }
  if (len > GUARD_ROOM) abort() ;
  if (len) memcpy(region + GUARD_ROOM - len, s, len) ;
  return region + GUARD_ROOM - len ;
}
