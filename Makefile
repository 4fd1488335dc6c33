# postern: one Makefile, no autotools. Settings come from the conf-*
# files (value on line 1, prose after), turned into build/auto/*.c.

CC = gcc
CFLAGS = -std=c99 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc/lib
# Static: a process start costs ~0.45 ms static vs ~0.57 ms dynamic on
# our machines, and several start per message. -lcdb before -lskarnet:
# both define cdb_* (NOTES-deps.md).
LDFLAGS = -static
LDLIBS = -lcdb -lskarnet
# Long-lived daemons that look up accounts (getpwnam needs glibc's NSS,
# which a static binary cannot load safely) link dynamically: they start
# once, so the faster static start does not matter for them. smtpd too:
# it looks recipients up at RCPT (a static getpwnam crashes in
# libnss_systemd for a name not in /etc/passwd). inject too: getpwuid
# must find any caller, LDAP or systemd accounts included; the queue
# tools look the queue account up (operator tools: start cost is moot);
# recipients-compile reads the whole password database.
DYNAMIC = send-start lspawn smtpd inject queue-list queue-stats queue-ctl recipients-compile
# auth-passwd looks the auth account up (an operator tool)
DYNAMIC += auth-passwd
# they still take skalibs and tinycdb statically: two libraries fewer to
# map and relocate at every start (smtpd: 2.10 -> 1.80 ms of CPU here)
BSTATIC = -Wl,-Bstatic
BDYNAMIC = -Wl,-Bdynamic
ldflags_of = $(if $(filter $(1),$(DYNAMIC)),,$(LDFLAGS))
libs_of = $(if $(filter $(1),$(DYNAMIC)),$(BSTATIC) $(LIBS_$(1)) $(LDLIBS) $(BDYNAMIC),$(LIBS_$(1)) $(LDLIBS))
# a program's own libraries, before LDLIBS: remote resolves with c-ares
LIBS_remote = -lcares -ltls -lssl -lcrypto -lpthread
# smtpd checks SPF with c-ares (src/lib/spf_*.c), DKIM with libcrypto (src/lib/dkim_*.c)
LIBS_smtpd = -lcares -lcrypto -lpthread
# dkim-dns: the DKIM key (src/lib/dkim_*.c)
LIBS_dkim-dns = -lcrypto -lpthread
# tlsd: libtls (libretls over OpenSSL 3), its ticket callback mended
# (src/tlsd/tlsd_ticket.c); checkpw and auth-passwd: crypt(3)
LIBS_tlsd = -Wl,--wrap=SSL_CTX_callback_ctrl -ltls -lssl -lcrypto -lpthread
LIBS_checkpw = -lcrypt
LIBS_auth-passwd = -lcrypt

# every directory of src/ but lib/ and install/ is one program
PROGRAMS := $(filter-out lib install,$(notdir $(patsubst %/,%,$(wildcard src/*/))))

PYTHON = /usr/bin/python3
HOME_DIR := $(shell head -n 1 conf-home)
SPLIT := $(shell head -n 1 conf-split)

LIB_SRC := $(wildcard src/lib/*.c)
LIB_OBJ := $(LIB_SRC:src/%.c=build/%.o) build/auto/auto_home.o build/auto/auto_split.o build/auto/auto_users.o
LIB_HDR := $(wildcard src/lib/*.h)
BINS := $(PROGRAMS:%=build/bin/%)

all: $(BINS)

build/%.o: src/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

build/auto/auto_home.c: conf-home
	@mkdir -p $(@D)
	printf 'char const auto_home[] = "%s" ;\n' '$(HOME_DIR)' > $@

build/auto/auto_split.c: conf-split
	@mkdir -p $(@D)
	test '$(SPLIT)' -ge 1 2>/dev/null || { echo 'conf-split: line 1 must be a number >= 1' >&2 ; exit 1 ; }
	printf 'unsigned int const auto_split = %s ;\n' '$(SPLIT)' > $@

# conf-users: "role account" lines until the first empty line
build/auto/auto_users.c: conf-users
	@mkdir -p $(@D)
	awk 'NF == 0 { exit } $$1 == "group" { printf "char const auto_group[] = \"%s\" ;\n", $$2 ; next } \
	  { printf "char const auto_user_%s[] = \"%s\" ;\n", $$1, $$2 }' conf-users > $@

build/auto/%.o: build/auto/%.c
	$(CC) $(CFLAGS) -c $< -o $@

build/libpostern.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# The test instance's programs: the same objects, but with the home
# compiled in as build/testhome of this checkout, so that a setuid
# queue-inject (which ignores POSTERN_HOME) writes the test queue.
TEST_HOME := $(CURDIR)/build/testhome
build/auto/auto_home_test.c:
	@mkdir -p $(@D)
	printf 'char const auto_home[] = "%s" ;\n' '$(TEST_HOME)' > $@
TEST_BINS := $(PROGRAMS:%=build/test/bin/%)
testbins: $(TEST_BINS)

# The quick-start instance's programs (make run): the home compiled in
# is ./run of this checkout, for the same reason. The file is rewritten
# only when the checkout has moved, so nothing relinks otherwise.
RUN_HOME := $(CURDIR)/run
build/auto/auto_home_run.c: FORCE
	@mkdir -p $(@D)
	@printf 'char const auto_home[] = "%s" ;\n' '$(RUN_HOME)' > $@.tmp
	@if cmp -s $@.tmp $@ ; then rm -f $@.tmp ; else mv -f $@.tmp $@ ; fi
RUN_BINS := $(PROGRAMS:%=build/run/bin/%)
runbins: $(RUN_BINS)

# bench/cluster.sh's nodes (bench/cluster.py): each node sees its own
# home at build/cluster/home, bound there in its own mount namespace,
# so one set of programs serves every node, setuid ones included.
CLUSTER_HOME := $(CURDIR)/build/cluster/home
build/auto/auto_home_cluster.c: FORCE
	@mkdir -p $(@D)
	@printf 'char const auto_home[] = "%s" ;\n' '$(CLUSTER_HOME)' > $@.tmp
	@if cmp -s $@.tmp $@ ; then rm -f $@.tmp ; else mv -f $@.tmp $@ ; fi
CLUSTER_BINS := $(PROGRAMS:%=build/cluster/bin/%)
clusterbins: $(CLUSTER_BINS)

# every program: the objects of src/<program>/, linked with the library
define program
build/bin/$(1): $(patsubst src/%.c,build/%.o,$(wildcard src/$(1)/*.c)) build/libpostern.a
	@mkdir -p $$(@D)
	$$(CC) $$(call ldflags_of,$(1)) -o $$@ $$^ $$(call libs_of,$(1))
build/test/bin/$(1): build/auto/auto_home_test.o $(patsubst src/%.c,build/%.o,$(wildcard src/$(1)/*.c)) build/libpostern.a
	@mkdir -p $$(@D)
	$$(CC) $$(call ldflags_of,$(1)) -o $$@ $$^ $$(call libs_of,$(1))
build/run/bin/$(1): build/auto/auto_home_run.o $(patsubst src/%.c,build/%.o,$(wildcard src/$(1)/*.c)) build/libpostern.a
	@mkdir -p $$(@D)
	$$(CC) $$(call ldflags_of,$(1)) -o $$@ $$^ $$(call libs_of,$(1))
build/cluster/bin/$(1): build/auto/auto_home_cluster.o $(patsubst src/%.c,build/%.o,$(wildcard src/$(1)/*.c)) build/libpostern.a
	@mkdir -p $$(@D)
	$$(CC) $$(call ldflags_of,$(1)) -o $$@ $$^ $$(call libs_of,$(1))
build/$(1)/%.o: src/$(1)/%.c $$(LIB_HDR) $$(wildcard src/$(1)/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -Isrc/$(1) -c $$< -o $$@
endef
$(foreach p,$(PROGRAMS),$(eval $(call program,$(p))))

# table-push(8), a sh script: the home put in as the programs compile it in
all: build/bin/table-push
build/bin/table-push: src/install/table-push.sh conf-home
	@mkdir -p $(@D)
	sed 's|@HOME@|$(HOME_DIR)|' src/install/table-push.sh > $@.tmp && chmod 755 $@.tmp && mv -f $@.tmp $@

# C tests of library functions, linked exactly as the programs are
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=build/unit/%)
UNIT_LIBS_spf_test = -lcares
UNIT_LIBS_dkim_key_test = -lcrypto -lpthread
UNIT_LIBS_dkim_verify_test = -lcrypto -lpthread
build/unit/%: tests/unit/%.c build/libpostern.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libpostern.a $(UNIT_LIBS_$*) $(LDLIBS)

# bench helpers
BENCH_SRC := $(filter-out bench/diskmodel.c,$(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRC:bench/%.c=build/bench/%)
BENCH_LIBS_dkim-verify = -lcrypto -lpthread
build/bench/%: bench/%.c build/libpostern.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libpostern.a $(BENCH_LIBS_$*) $(LDLIBS)

deps:
	sh src/deps.sh

# the system accounts of conf-users (as root; does nothing otherwise)
accounts:
	sh src/install/accounts.sh

# The quick-start instance at ./run (README, CONTRACTS): set up (again:
# harmless, the queue is kept), run by s6-svscan in the background, then
# one message through SMTP to demo@example.test and where it went.
INSTANCE = $(PYTHON) src/install/instance.py
RUN_PORT = 2525
# submission (STARTTLS, then AUTH) and smtps (implicit TLS)
RUN_TLS_PORTS = 2587 2465
run: deps accounts all $(RUN_BINS)
	$(INSTANCE) setup $(RUN_HOME) build/run/bin $(RUN_PORT) $(RUN_TLS_PORTS)
	$(INSTANCE) start $(RUN_HOME)
	$(INSTANCE) demo $(RUN_HOME)

# stops the instance; returns once none of its processes is left
stop:
	$(INSTANCE) stop $(RUN_HOME)

# the same set-up as run (an instance that does not come up fails the
# check), then the whole suite; test_instance fails, never skips, if
# the instance is not running (POSTERN_CHECK_INSTANCE)
check: deps accounts all $(TEST_BINS) $(RUN_BINS) $(CLUSTER_BINS) $(UNIT_BINS) $(BENCH_BINS)
	$(INSTANCE) setup $(RUN_HOME) build/run/bin $(RUN_PORT) $(RUN_TLS_PORTS)
	$(INSTANCE) start $(RUN_HOME)
	POSTERN_CHECK_INSTANCE=1 $(PYTHON) tests/run

# A real install into conf-home (as root): accounts, the home with its
# queue, programs, control defaults (existing files are kept), service
# directories and log directories; man pages under conf-home/man;
# /usr/sbin/sendmail -> bin/inject if there is no sendmail yet.
MANDIR = $(HOME_DIR)/man
install: accounts all
	sh src/install/mkhome.sh $(HOME_DIR) build/bin
	ADMIN='$(ADMIN)' sh src/install/control.sh $(HOME_DIR)
	sh src/install/services.sh $(HOME_DIR)
	for m in man/*.[1-8] ; do \
	  d=$(MANDIR)/man$${m##*.} ; mkdir -p $$d && install -m 644 $$m $$d/ || exit 1 ; \
	done
	sh src/install/sendmail.sh $(HOME_DIR)
	@echo "install: done; hook $(HOME_DIR)/service/send and smtpd into s6-svscan (INSTALL)"

bench: all $(BENCH_BINS)

# bench/queue-disks.py: every program again, its fsync, fdatasync and
# syncfs wrapped by bench/diskmodel.c (a modelled disk's flush latency),
# in build/diskmodel/bin; build/bin is left alone
DISKMODEL_WRAP = -Wl,--wrap=fsync,--wrap=fdatasync,--wrap=syncfs
build/diskmodel/diskmodel.o: bench/diskmodel.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@
define dmprogram
build/diskmodel/bin/$(1): build/diskmodel/diskmodel.o $(patsubst src/%.c,build/%.o,$(wildcard src/$(1)/*.c)) build/libpostern.a
	@mkdir -p $$(@D)
	$$(CC) $$(call ldflags_of,$(1)) -o $$@ $$^ $$(call libs_of,$(1)) $$(DISKMODEL_WRAP)
endef
$(foreach p,$(PROGRAMS),$(eval $(call dmprogram,$(p))))
diskmodel: $(PROGRAMS:%=build/diskmodel/bin/%)

clean:
	rm -rf build

FORCE:

.PHONY: all deps accounts check bench diskmodel clean run stop install runbins testbins clusterbins fuzz fuzz-smoke fuzzbins FORCE
.SECONDARY:

# Fuzzing (tests/fuzz/README): libFuzzer harnesses built with clang,
# ASan and UBSan, from objects of their own (build/fuzz/). A harness
# links the program objects it drives by name, so a renamed file or
# function breaks this build instead of leaving a parser unfuzzed.
# make fuzz: each harness for FUZZ_SECONDS; make fuzz-smoke: a few
# seconds each, failing on a crash (tests/test_fuzz.py runs it).
FUZZ_CC = clang
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=c99 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Isrc/lib -Wall -Wextra $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_SECONDS = 600
FUZZ_SMOKE_SECONDS = 2
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(filter-out tests/fuzz/fuzz_common.c,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS := $(FUZZ_NAMES:%=build/fuzz/bin/%)
FUZZ_LIB_OBJ := $(LIB_SRC:src/lib/%.c=build/fuzz/lib/%.o) build/fuzz/auto/auto_home.o build/fuzz/auto/auto_split.o build/fuzz/auto/auto_users.o
# a program's objects: every file of src/<program>/, main renamed away
fuzz_prog = $(patsubst src/%.c,build/fuzz/%.o,$(wildcard src/$(1)/*.c))
FUZZ_OBJ_smtpd_session = $(call fuzz_prog,smtpd)
FUZZ_OBJ_addr = build/fuzz/smtpd/smtpd_addr.o build/fuzz/inject/inject_addrlist.o
FUZZ_OBJ_inject_header = $(call fuzz_prog,inject)
FUZZ_OBJ_local_header = build/fuzz/local/local_hops.o build/fuzz/local/local_copy.o build/fuzz/local/local_text.o
FUZZ_OBJ_remote_reply = $(call fuzz_prog,remote)
FUZZ_OBJ_remote_dns = $(call fuzz_prog,remote)
FUZZ_OBJ_control = $(call fuzz_prog,table-compile)
FUZZ_OBJ_cyclog = build/fuzz/cyclog/cyclog_line.o
FUZZ_OBJ_logsum = $(call fuzz_prog,log-summary)
FUZZ_OBJ_queue_writer = build/fuzz/queue-writer/qw_read.o
FUZZ_OBJ_smtpd_arfilter = build/fuzz/smtpd/smtpd_arfilter.o
FUZZ_LIBS_remote_reply = -lcares -ltls -lssl -lcrypto
FUZZ_LIBS_remote_dns = -lcares -ltls -lssl -lcrypto
FUZZ_LIBS_smtpd_session = -lcares -lcrypto
FUZZ_LIBS_dkim_message = -lcrypto
FUZZ_LIBS_dkim_verify = -lcrypto -lpthread
# what a harness catches or replaces: -Wl,--wrap=f makes calls to f go
# to __wrap_f (skalibs is linked statically, so its calls are caught too);
# every harness catches exits and execs (fuzz_common.c)
FUZZ_WRAP = $(foreach f,_exit execve execv execvp execvpe,-Wl,--wrap=$(f))
FUZZ_WRAP_smtpd_session = -Wl,--wrap=allwrite -Wl,--wrap=smtpd_data
FUZZ_WRAP_remote_reply = -Wl,--wrap=socket_deadlineconnstamp46
FUZZ_WRAP_remote_dns = -Wl,--wrap=ares_query -Wl,--wrap=remote_dns_init
# spf_check: the DNS answers come from the input, no c-ares linked
FUZZ_WRAP_spf_check = -Wl,--wrap=spf_dns_query

build/fuzz/lib/%.o: src/lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/auto/%.o: build/auto/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/libpostern.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^
define fuzzprog
build/fuzz/$(1)/%.o: src/$(1)/%.c $$(LIB_HDR) $$(wildcard src/$(1)/*.h)
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -Isrc/$(1) -Dmain=fuzz_unused_main_$(subst -,_,$(1)) -c $$< -o $$@
endef
$(foreach p,$(PROGRAMS),$(eval $(call fuzzprog,$(p))))
build/fuzz/common.o: tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -c $< -o $@
define fuzzbin
build/fuzz/bin/$(1): tests/fuzz/fuzz_$(1).c tests/fuzz/fuzz.h build/fuzz/common.o $$(FUZZ_OBJ_$(1)) build/fuzz/libpostern.a
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -Werror $$(addprefix -Isrc/,$$(sort $$(dir $$(patsubst build/fuzz/%,%,$$(FUZZ_OBJ_$(1)))))) \
	  -fsanitize=fuzzer -o $$@ $$< build/fuzz/common.o $$(FUZZ_OBJ_$(1)) build/fuzz/libpostern.a \
	  $$(FUZZ_LIBS_$(1)) $$(BSTATIC) -lcdb -lskarnet $$(BDYNAMIC) $$(FUZZ_WRAP) $$(FUZZ_WRAP_$(1))
endef
$(foreach f,$(FUZZ_NAMES),$(eval $(call fuzzbin,$(f))))
fuzzbins: $(FUZZ_BINS)

# each harness in turn (one core), new inputs kept in build/fuzz/corpus/,
# crashes written to build/fuzz/crashes/; the committed corpus is read only
# FUZZ_FLAGS: more libFuzzer flags, e.g. -detect_leaks=0 where ptrace is denied
FUZZ_RUN = FUZZ_FLAGS="$(FUZZ_FLAGS)" sh tests/fuzz/run.sh
fuzz: $(FUZZ_BINS)
	$(FUZZ_RUN) $(FUZZ_SECONDS) $(FUZZ_NAMES)
fuzz-smoke: $(FUZZ_BINS)
	$(FUZZ_RUN) $(FUZZ_SMOKE_SECONDS) $(FUZZ_NAMES)
