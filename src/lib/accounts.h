#ifndef POSTERN_ACCOUNTS_H
#define POSTERN_ACCOUNTS_H

/* conf-users, compiled in (build/auto/auto_users.c, which the Makefile writes): one account per role */
extern char const auto_user_queue[] ;
extern char const auto_user_send[] ;
extern char const auto_user_remote[] ;
extern char const auto_user_smtpd[] ;
extern char const auto_user_log[] ;
extern char const auto_user_alias[] ;
extern char const auto_user_auth[] ;
extern char const auto_group[] ;

#endif
