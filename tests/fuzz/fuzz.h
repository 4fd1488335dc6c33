/* What every harness shares (tests/fuzz/README): a program's exits
   caught, invariants checked, input put on a descriptor, a scratch home. */
#ifndef POSTERN_FUZZ_H
#define POSTERN_FUZZ_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

/* _exit() (strerr_die*, a program's own) is wrapped (-Wl,--wrap=_exit):
   while fuzz_armed, it comes back here through fuzz_jmp instead; the
   code is in fuzz_exitcode. Use: if (!setjmp(fuzz_jmp)) { fuzz_armed = 1 ;
   call() ; fuzz_armed = 0 ; } else ... (fuzz_armed is 0 again) */
extern jmp_buf fuzz_jmp ;
/* execve, execv, execvp, execvpe are wrapped too: while armed, an exec
   comes back the same way with this code (the fuzzer is never replaced) */
#define FUZZ_EXECED 1000
extern volatile int fuzz_armed ;
extern volatile int fuzz_exitcode ;

/* a broken invariant: says which on stderr, then aborts (a crash to libFuzzer) */
extern void fuzz_fail (char const *what, char const *file, int line) __attribute__((noreturn)) ;
#define FUZZ_ASSERT(cond) do { if (!(cond)) fuzz_fail(#cond, __FILE__, __LINE__) ; } while (0)

/* puts s (len bytes) in a memory file read from its start on fd */
extern void fuzz_input_fd (int fd, uint8_t const *s, size_t len) ;
/* an empty memory file on fd; fuzz_output reads it back into a static
   buffer (*len bytes; output past max is dropped) */
extern void fuzz_output_fd (int fd) ;
extern char const *fuzz_output (int fd, size_t *len) ;

/* a scratch home under $TMPDIR (or /tmp) with control/, made the cwd and
   POSTERN_HOME; removed at exit when libFuzzer exits through exit()
   (run.sh gives each run a TMPDIR of its own and empties it) */
extern char const *fuzz_home (void) ;
/* writes a cdb (tinycdb) at path from key, value pairs ended by 0 */
extern void fuzz_cdb (char const *path, ...) ;
/* writes a small file */
extern void fuzz_file (char const *path, char const *s) ;
/* the programs' warnings on fd 2 (skalibs' buffer_2) go to /dev/null;
   sanitizer reports still go to stderr */
extern void fuzz_quiet (void) ;

/* a copy of s (len bytes, at most 4 MiB) that ends where a page nobody
   may read begins: a read past its end crashes even in code built
   without ASan (skalibs, tinycdb). Valid until the next call. */
extern char *fuzz_guard (void const *s, size_t len) ;

/* memmem for byte strings, 0 if absent */
extern void const *fuzz_find (void const *hay, size_t n, void const *needle, size_t m) ;

#endif
