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
# they still take skalibs and tinycdb statically: two libraries fewer to
# map and relocate at every start (smtpd: 2.10 -> 1.80 ms of CPU here)
BSTATIC = -Wl,-Bstatic
BDYNAMIC = -Wl,-Bdynamic
ldflags_of = $(if $(filter $(1),$(DYNAMIC)),,$(LDFLAGS))
libs_of = $(if $(filter $(1),$(DYNAMIC)),$(BSTATIC) $(LIBS_$(1)) $(LDLIBS) $(BDYNAMIC),$(LIBS_$(1)) $(LDLIBS))
# a program's own libraries, before LDLIBS: remote resolves with c-ares
LIBS_remote = -lcares

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
build/$(1)/%.o: src/$(1)/%.c $$(LIB_HDR) $$(wildcard src/$(1)/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -Isrc/$(1) -c $$< -o $$@
endef
$(foreach p,$(PROGRAMS),$(eval $(call program,$(p))))

# C tests of library functions, linked exactly as the programs are
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=build/unit/%)
build/unit/%: tests/unit/%.c build/libpostern.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libpostern.a $(LDLIBS)

# bench helpers
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRC:bench/%.c=build/bench/%)
build/bench/%: bench/%.c build/libpostern.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libpostern.a $(LDLIBS)

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
run: deps accounts all $(RUN_BINS)
	$(INSTANCE) setup $(RUN_HOME) build/run/bin $(RUN_PORT)
	$(INSTANCE) start $(RUN_HOME)
	$(INSTANCE) demo $(RUN_HOME)

# stops the instance; returns once none of its processes is left
stop:
	$(INSTANCE) stop $(RUN_HOME)

# the same set-up as run (an instance that does not come up fails the
# check), then the whole suite; test_instance fails, never skips, if
# the instance is not running (POSTERN_CHECK_INSTANCE)
check: deps accounts all $(TEST_BINS) $(RUN_BINS) $(UNIT_BINS) $(BENCH_BINS)
	$(INSTANCE) setup $(RUN_HOME) build/run/bin $(RUN_PORT)
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

clean:
	rm -rf build

FORCE:

.PHONY: all deps accounts check bench clean run stop install runbins testbins FORCE
.SECONDARY:
