#ifndef POSTERN_RECORD_H
#define POSTERN_RECORD_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include "addr.h"
#include "envelope.h"
#include "queue.h"
#include "state.h"

/* the longest request, a U: id, four numbers and a text send cuts at
   1000 bytes, with room to spare */
#define RECORD_REQUEST_MAX 2048
/* held locked by the running record (queue/state is send's) */
#define RECORD_LOCK QUEUE_DIR "/state/lock"
/* requests taken before one round of fsyncs and the replies */
#define RECORD_BATCH_MAX 1000
/* state files a batch may hold open for its fsync round */
#define RECORD_FILES_MAX 128
/* todo messages sorted per scan; the rest wait for the next scan */
#define RECORD_SCAN_MAX 1000
/* N replies held in memory before a scan stops early (bytes) */
#define RECORD_SCAN_BYTES (16 << 20)
/* a todo file: the envelope and the u/p info fields queue-inject adds */
#define RECORD_TODO_MAX (ENV_BYTES_MAX + 64)
/* a local name longer than STATE_LOCALNAME_MAX defers the message (a
   table error) */
#define RECORD_LOCALNAME_MAX STATE_LOCALNAME_MAX
#define RECORD_STATE_MAX STATE_BYTES_MAX
/* an N reply: "N" id NUL then the state file */
#define RECORD_REPLY_MAX STATE_REPLY_MAX

/* record.c: replies to send */
extern stralloc record_out ;
extern void record_reply (char letter, char const *id, char const *text, int err) ;
extern void record_flush (void) ;

/* record_batch.c: U and X requests, the fsync round */
extern int record_batch_init (void) ;
extern void record_update (char const *s, size_t len) ;
extern void record_remove (char const *s, size_t len) ;
extern void record_error (char const *s, size_t len, char const *text) ;
extern unsigned int record_batch_files (void) ;
extern void record_batch_end (void) ;

/* record_scan.c: L and S requests */
extern void record_scan (int load) ;
extern void record_load_subdir (unsigned int sub) ;

/* record_classify.c: appends a recipient to a state being built;
   0 and a warning if the message must wait (a table is unreadable) */
extern void record_classify_reset (void) ;
extern int record_classify (stralloc *st, char const *id, char const *addr, size_t len) ;

#endif
