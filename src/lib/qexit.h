#ifndef POSTERN_QEXIT_H
#define POSTERN_QEXIT_H

/* queue-inject's exit codes, qmail-queue style: 11-40 permanent, every
   other non-zero code temporary. The table in qexit_lookup.c gives each its
   SMTP reply, enhanced status and text; smtpd and inject use it. */
enum qexit
{
  QX_OK = 0,
  QX_ADDRLONG = 11,   /* an address is too long */
  QX_TOOBIG = 12,     /* message over control/databytes */
  QX_TOOMANY = 13,    /* too many recipients */
  QX_ENVLONG = 14,    /* envelope too long */
  QX_NORCPT = 15,     /* no recipients */
  QX_ADDRBAD = 16,    /* an address has a control character */
  QX_ENVFORMAT = 31,  /* envelope format error */
  QX_NOMEM = 51,      /* out of memory */
  QX_TIMEOUT = 52,    /* lifetime exceeded */
  QX_WRITE = 53,      /* write error, e.g. disk full */
  QX_READ = 54,       /* unable to read message or envelope */
  QX_CONTROL = 55,    /* unable to read a control file */
  QX_HOME = 61,       /* unable to chdir to the home */
  QX_BODY = 64,       /* problem with queue/body */
  QX_INTAKE = 65,     /* problem with queue/intake */
  QX_TODO = 66,       /* problem with queue/todo */
  QX_BUG = 81         /* internal bug */
} ;

typedef struct qexit_info_s qexit_info, *qexit_info_ref ;
struct qexit_info_s
{
  unsigned char code ;
  unsigned short smtp ;   /* 4xx or 5xx */
  char const *status ;    /* RFC 3463 enhanced status code */
  char const *text ;
} ;

/* 1 if a non-zero exit code means "never retry" */
#define qexit_permanent(c) ((c) >= 11 && (c) <= 40)
/* the entry for code; an unknown code gets a temporary "unknown" entry */
extern qexit_info const *qexit_lookup (int code) ;

#endif
