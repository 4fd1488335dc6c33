#ifndef POSTERN_DKIM_H
#define POSTERN_DKIM_H

/* DKIM (RFC 6376) signatures, relaxed/relaxed, rsa-sha256 and
   ed25519-sha256 (RFC 8463), with OpenSSL's libcrypto: only a program
   linked with -lcrypto may call these. Shared by the signer (remote)
   and a later verifier. */

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

/* a header section longer than this (bytes as sent) is not signed:
   a verifier must read it whole, and no real one is this long */
#define DKIM_HEADER_MAX 65536
/* the DKIM-Signature field added is folded so no line is longer */
#define DKIM_LINE_WIDTH 78
/* a selector, a domain (RFC 1035) */
#define DKIM_SELECTOR_MAX 63
#define DKIM_DOMAIN_MAX 255
/* the digest size of SHA-256 */
#define DKIM_HASH_LEN 32
/* the fields signed when present, each once per occurrence; From once
   more than present (oversigned: no From can be added after signing) */
#define DKIM_SIGNED_FIELDS "from", "to", "cc", "subject", "date", "message-id", "reply-to", \
  "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding", "sender"

struct evp_pkey_st ;
struct evp_md_ctx_st ;

/* the body hash (RFC 6376 3.4.3, 3.4.4, 3.7): lines given one by one
   without their CR LF */
typedef struct dkim_body_s dkim_body ;
struct dkim_body_s
{
  struct evp_md_ctx_st *md ;
  uint64_t blanks ;    /* empty lines seen and not yet hashed: trailing ones never are */
  uint64_t left ;      /* bytes still hashed (l=) */
  int simple ;         /* simple canonicalization, else relaxed */
  int any ;            /* a line with text was seen */
} ;
#define DKIM_BODY_ZERO { .md = 0, .blanks = 0, .left = 0, .simple = 0, .any = 0 }
/* relaxed, the whole body (the signer's): 1, or 0 if OpenSSL failed */
extern int dkim_body_init (dkim_body *b) ;
/* simple or relaxed, at most limit bytes hashed (a verifier's) */
extern int dkim_body_start (dkim_body *b, int simple, uint64_t limit) ;
extern int dkim_body_line (dkim_body *b, char const *s, size_t len) ;
/* the hash into h, the state freed */
extern int dkim_body_final (dkim_body *b, unsigned char *h) ;

/* one header field (name, colon, value, continuation lines with their
   line ends CR LF or LF, no final line end) appended to sa as relaxed
   canonicalization makes it (RFC 6376 3.4.2), ended by CR LF when crlf */
extern int dkim_relax_header (stralloc *sa, char const *s, size_t len, int crlf) ;

/* the key of a PEM file (PKCS#8 or traditional), RSA of at least
   DKIM_RSA_BITS_MIN bits or Ed25519, or 0 with errno (EINVAL: not such
   a key; EPERM: readable by group or others) */
extern struct evp_pkey_st *dkim_key_load (char const *path) ;
/* "rsa" or "ed25519", 0 for another kind */
extern char const *dkim_key_kind (struct evp_pkey_st *key) ;

/* The DKIM-Signature field for the header section head (as sent: CR
   LF or LF line ends, no empty line) whose body hashed to bh: appended
   to sa, folded at DKIM_LINE_WIDTH, CR LF line ends. t: the signing
   time (seconds since the epoch). 1, or 0 with errno (EINVAL: key of
   no known kind; ENOMEM; EIO: OpenSSL failed) */
typedef struct dkim_sign_s dkim_sign ;
struct dkim_sign_s
{
  char const *domain ;
  char const *selector ;
  struct evp_pkey_st *key ;
  uint64_t t ;
} ;
extern int dkim_sign_head (stralloc *sa, dkim_sign const *d, char const *head, size_t headlen, unsigned char const *bh) ;
/* the field names chosen from head for h=, colon-separated, into sa:
   each DKIM_SIGNED_FIELDS name once per occurrence, From once more */
extern int dkim_pick (stralloc *sa, char const *head, size_t headlen) ;
/* the hash input of the fields named in h (colon-separated list) taken
   from head bottom up (RFC 6376 5.4.2), appended to sa, relaxed or simple */
extern int dkim_head_input (stralloc *sa, char const *head, size_t headlen, char const *h, size_t hlen, int simple) ;
/* one header field as simple canonicalization has it (RFC 6376 3.4.1):
   unchanged, but each line end CR LF, and CR LF after it when crlf */
extern int dkim_simple_header (stralloc *sa, char const *s, size_t len, int crlf) ;
/* appends s to sa at column *col (dkim_fold.c says how by mode), on
   a new line (CR LF TAB) where it would pass DKIM_LINE_WIDTH */
#define DKIM_FOLD_TAG 0
#define DKIM_FOLD_GLUE 1
#define DKIM_FOLD_ANY 2
extern int dkim_fold (stralloc *sa, size_t *col, char const *s, size_t len, int mode) ;

/* the next field of head from *pos: its start in *start and its length
   (continuation lines included, its last line end not) in *len, *pos
   past it; 0 at the end. A line with no colon is skipped. */
extern int dkim_field_next (char const *head, size_t headlen, size_t *pos, size_t *start, size_t *len) ;

/* the header section of m (len bytes, LF or CR LF line ends): its
   length in *headlen (its last line end kept) and where the body starts
   in *body; 1 if an empty line ended it, 0 if m ended first (then
   *headlen covers m's whole lines, *body is len) */
extern int dkim_head_split (char const *m, size_t len, size_t *headlen, size_t *body) ;
/* the field (as dkim_field_next gives it) is a DKIM-Signature */
extern int dkim_is_signature (char const *field, size_t len) ;
/* v without its folding white space into d: its length, or max + 1 if
   it does not fit */
extern size_t dkim_squeeze (char *d, size_t max, char const *v, size_t vlen) ;

/* the From domain of head (the address's domain, lowercased) into sa,
   NUL-ended: 1, or 0 if head has no From field or not exactly one
   address domain in it */
extern int dkim_from_domain (stralloc *sa, char const *head, size_t headlen) ;

/* the DNS TXT value for the public half of key: "v=DKIM1; k=rsa; p=..." */
extern int dkim_dns_value (stralloc *sa, struct evp_pkey_st *key) ;

/* the value of tag name in the tag-list s (RFC 6376 3.2), white space
   around it removed: 1, 0 if absent, -1 if the list is malformed or
   names the tag twice */
extern int dkim_tag (char const *s, size_t len, char const *name, char const **v, size_t *vlen) ;

/* the public key of a DNS key record (RFC 6376 3.6.1): 1 with *key set;
   0 if the record is not a usable key (permerror: bad syntax, v= not
   DKIM1, k= not rsa or ed25519, p= empty as a revoked key's or not a
   key of its k=, an RSA key under DKIM_RSA_BITS_MIN bits) */
#define DKIM_RSA_BITS_MIN 1024
extern int dkim_key_parse (struct evp_pkey_st **key, char const *s, size_t len) ;
/* the same, the keys of the last records parsed kept: a reference the
   caller frees */
extern int dkim_key_cached (struct evp_pkey_st **key, char const *s, size_t len) ;

/* the signature of the DKIM-Signature field (whole, as in head: name,
   value, line ends) over head, with key: 1 if it verifies, 0 if not
   (a bad signature, a key of another algorithm), -1 if the field
   cannot be checked (malformed, unknown a=, c= not relaxed for the
   header) or out of memory. bh= is the caller's to compare. */
extern int dkim_verify_head (struct evp_pkey_st *key, char const *field, size_t len, char const *head, size_t headlen) ;

/* A verifier's result for one signature (RFC 8601 2.7.1) */
enum dkim_result { DKIM_PASS, DKIM_FAIL, DKIM_NEUTRAL, DKIM_POLICY, DKIM_TEMPERROR, DKIM_PERMERROR } ;
/* signatures of one message checked; more are not (each costs a DNS
   lookup and a pass over the body) */
#define DKIM_VERIFY_MAX 8
/* a's value as reported: the longest known is "ed25519-sha256" */
#define DKIM_ALG_MAX 15
typedef struct dkim_sig_s dkim_sig ;
struct dkim_sig_s
{
  enum dkim_result result ;
  char const *why ;                /* but for pass: a comment saying why */
  char d[DKIM_DOMAIN_MAX + 1] ;    /* d=, lowercased; "" if unusable */
  char s[DKIM_SELECTOR_MAX + 1] ;  /* s=; "" if unusable */
  char a[DKIM_ALG_MAX + 1] ;       /* a=; "" if unusable */
  char b[9] ;                      /* b='s first 8 characters (RFC 6008) */
  int simplehead, simplebody ;     /* c= */
  uint64_t l ;                     /* l=, UINT64_MAX without */
  unsigned char bh[DKIM_HASH_LEN] ;
} ;
/* the key records of name (TXT strings joined, each record NUL-ended)
   appended to sa: 1, 0 if the name has none, -1 on a temporary failure */
typedef int dkim_keyfn (stralloc *sa, char const *name, void *arg) ;
/* The DKIM-Signature fields of msg (header section, empty line, body;
   LF or CR LF line ends), top first, at most max, checked (RFC 6376 6)
   with the keys key() finds: their number, each result in sig. now:
   seconds since the epoch, for x=. */
extern unsigned int dkim_verify (dkim_sig *sig, unsigned int max, char const *msg, size_t len, uint64_t now, dkim_keyfn *key, void *arg) ;
/* a DKIM-Signature field's tags (RFC 6376 3.5, 6.1.1) into sig: 1 if it
   can be checked, 0 with sig->result and sig->why if not */
extern int dkim_sig_parse (dkim_sig *sig, char const *field, size_t len, uint64_t now) ;
/* the colon-separated list v holds item (without case) */
extern int dkim_listed (char const *v, size_t vlen, char const *item) ;
/* "pass", "fail", ... as RFC 8601 names them */
extern char const *dkim_result_name (enum dkim_result r) ;

#endif
