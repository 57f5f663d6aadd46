# leaktrace: build, test, bench, demo. Everything built goes to .output/; the binary is ./leaktrace.
# `make V=1` shows the commands.

OUTPUT     := .output
HOST_ARCH  := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH       := $(HOST_ARCH)
# Architectures with a seam: src/arch_$(ARCH).c behind src/arch.h, a block of bpf/arch.bpf.h,
# vmlinux/$(ARCH)/vmlinux.h.
ARCHS      := x86 arm64
ifeq ($(filter $(ARCH),$(ARCHS)),)
$(error ARCH=$(ARCH) is not supported: leaktrace builds for $(ARCHS) (src/arch.h, bpf/arch.bpf.h))
endif
# A cross build (make ARCH=arm64 on x86-64): Debian's cross compiler and the target's multiarch
# libraries (tools/install-deps cross-arm64), everything in $(OUTPUT)/$(ARCH)/ so that the host's
# build stays as it is; the binary is $(OUTPUT)/$(ARCH)/leaktrace.
ifneq ($(ARCH),$(HOST_ARCH))
CROSS_COMPILE ?= $(patsubst arm64,aarch64,$(patsubst x86,x86_64,$(ARCH)))-linux-gnu-
CC         := $(CROSS_COMPILE)gcc
CXX        := $(CROSS_COMPILE)g++
OUTPUT     := .output/$(ARCH)
endif
CC         ?= cc
CLANG      ?= clang
RUSTC      ?= rustc
GO         ?= go
BPFTOOL    ?= bpftool
CFLAGS     ?= -g -O2
WARNINGS   := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wno-unused-parameter
# BPF programs take the context their section gives (BPF_PROG's ctx), used or not.
BPF_WARNINGS := -Wall -Wextra -Wno-unused-parameter
CPPFLAGS   += -I$(OUTPUT) -Ibpf -Isrc -D_GNU_SOURCE
# libbpf, libdw (unwind tables; it needs bzip2 and xz), libelf, zlib, jansson (reading snapshots),
# libiberty (the C++ and Rust demangler) and capstone (x86 decoding) are linked statically, so the
# binary runs on hosts without them. (One line: tests/bench/run.sh reads it.) libmicrohttpd (the
# agent's HTTP server) is loaded by the agent at run time: its static archive needs GnuTLS, which
# Debian ships shared only.
STATIC_LIBS := -Wl,-Bstatic -lbpf -ldw -lelf -lz -lbz2 -llzma -ljansson -liberty -lcapstone -Wl,-Bdynamic
TEST_LIBS  := -lcriterion -ljansson
# make static's binary: relative relocations packed (DT_RELR) where the linker packs them without
# a word (binutils 2.38+ on x86-64; 2.40 ignores the option on arm64, saying so): capstone's tables
# of pointers need 80,000, whose 1.9 MiB table the binary reads at every start and keeps resident.
# Not the dynamic binary's: glibc loads DT_RELR from 2.36 on, and it promises 2.34.
# Recursive (=): the probe runs when the static link needs it, not at every make.
RELR_LDFLAGS = $(shell printf 'int main(void){return 0;}' | \
	$(CC) -x c - -Wl,-z,pack-relative-relocs -o /dev/null 2>&1 | grep -q . || \
	echo -Wl,-z,pack-relative-relocs)

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SRCS       := $(filter-out src/arch_%.c,$(wildcard src/*.c)) src/arch_$(ARCH).c
OBJS       := $(patsubst src/%.c,$(OUTPUT)/src/%.o,$(SRCS))
LIB_OBJS   := $(filter-out $(OUTPUT)/src/main.o,$(OBJS))
BPF_OBJ    := $(OUTPUT)/leaktrace.bpf.o
SKEL       := $(OUTPUT)/leaktrace.skel.h
# --kernel's programs: a BPF unit of their own, loaded only when asked for.
KMEM_OBJ   := $(OUTPUT)/kmem.bpf.o
KMEM_SKEL  := $(OUTPUT)/kmem.skel.h

# `leaktrace report` reads saved snapshots only: its objects link without the tracer, the live
# source, the BPF skeleton and libbpf. make check-layers links them alone (tools/check-includes
# keeps this list and the include graph in step).
REPORT_OBJS := $(patsubst %,$(OUTPUT)/src/%.o,cmd_report format export export_folded export_svg \
	export_pprof report_text report_fleet report_diff snapshot snapshot_json_read \
	snapshot_json_write snapshot_merge stack_match demangle resymbolize frame arena units escape \
	diag json_writer output_file debuginfo dwarf_image dwarf_lines elf_syms frame_lines stop target_file arch_$(ARCH))
# Frames shared between a snapshot's stacks (the loader, --merge, --symbolize, demangling).
REPORT_OBJS += $(OUTPUT)/src/frame_table.o
REPORT_LIBS := -Wl,-Bstatic -ldw -lelf -lz -lbz2 -llzma -ljansson -liberty -lcapstone -Wl,-Bdynamic

UNIT_SRCS  := $(filter-out tests/unit/test_arch_%.c,$(wildcard tests/unit/*.c)) \
	$(wildcard tests/unit/test_arch_$(ARCH).c)
INTEG_SRCS := $(wildcard tests/integration/*.c)
FIXTURES   := $(patsubst tests/fixtures/%.c,%,$(wildcard tests/fixtures/*.c)) \
	$(patsubst tests/fixtures/%.cc,%,$(wildcard tests/fixtures/*.cc))
# Each fixture twice: with frame pointers (-fp) and without, Debian's default (-nofp).
FIXTURE_BINS := $(foreach f,$(FIXTURES),$(OUTPUT)/fixtures/$(f)-fp $(OUTPUT)/fixtures/$(f)-nofp) \
	$(OUTPUT)/fixtures/syms-stripped $(OUTPUT)/fixtures/syms-debuglink \
	$(OUTPUT)/fixtures/leaky-stripped \
	$(OUTPUT)/fixtures/children-static $(OUTPUT)/fixtures/children-asan \
	$(OUTPUT)/fixtures/bigso-linked-nofp $(OUTPUT)/fixtures/libplug-nofp.so \
	$(OUTPUT)/fixtures/fusestall
# The 100+ MB library of the unwinder's clang-size case: Debian's libLLVM (clang's own).
LIBLLVM    := $(firstword $(wildcard /usr/lib/$(shell uname -m)-linux-gnu/libLLVM-*.so.1))
# Rust's two symbol manglings, without frame pointers (Debian's default): only where rustc is.
RUST_FIXTURES := $(OUTPUT)/fixtures/leaky_rust-legacy $(OUTPUT)/fixtures/leaky_rust-v0
HAVE_RUSTC := $(shell command -v $(RUSTC) 2>/dev/null)
FIXTURE_BINS += $(if $(HAVE_RUSTC),$(RUST_FIXTURES))
# Go calling C (cgo) that leaks: only where go is (golang-go, which make test installs).
HAVE_GO := $(shell command -v $(GO) 2>/dev/null)
FIXTURE_BINS += $(if $(HAVE_GO),$(OUTPUT)/fixtures/leaky_cgo)

# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/NAME/), built with clang's
# ASan and UBSan into $(OUTPUT)/fuzz/; `make fuzz FUZZ_SECONDS=N` runs each for N seconds.
FUZZERS      := snapshot elf_syms unwind_table procmaps arch_$(ARCH) dwarf_lines kallsyms core_btf
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_OBJS    := $(patsubst $(OUTPUT)/src/%,$(OUTPUT)/fuzz/src/%,$(LIB_OBJS))
FUZZ_BINS    := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZERS))
# make test-asan: the unit suite, and the leaktrace the integration suite runs, under ASan and
# UBSan (gcc's), in $(OUTPUT)/asan/.
ASAN_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_OBJS    := $(patsubst $(OUTPUT)/src/%,$(OUTPUT)/asan/src/%,$(OBJS))
ASAN_LIB_OBJS := $(filter-out $(OUTPUT)/asan/src/main.o,$(ASAN_OBJS))
# The integration suite's environment for that leaktrace; a leak of its own fails too.
ASAN_RUN     = ASAN_OPTIONS=detect_leaks=1 LEAKTRACE=$(CURDIR)/$(OUTPUT)/asan/top/leaktrace \
	FIXTURES=$(CURDIR)/$(OUTPUT)/fixtures
# valgrind's LEAK SUMMARY against run mode's on the other probe paths too: every case of
# verdicts.c in one run (the children suite compares its processes on every path already).
VERDICTS_EVERY_PATH := verdicts/every_case_with_frame_pointers_equals_valgrind
# What make test runs under them besides the reruns of test-integration.
ASAN_SUITES  := @(verdicts|suppress|bad_input|frame_place|export|hostile|kernel)/*

.DELETE_ON_ERROR:
.SECONDARY: $(FUZZ_OBJS) $(ASAN_OBJS)
.PHONY: all clean deps test test-unit test-integration test-kernels bench bar demo install fixtures soak soak-agent \
	fuzz fuzz-smoke test-asan test-asan-unit asan-top check-layers format format-check

ifeq ($(ARCH),$(HOST_ARCH))
all: leaktrace
else
all: $(OUTPUT)/leaktrace
endif

leaktrace: $(OUTPUT)/leaktrace
	$(Q)ln -sf $(OUTPUT)/leaktrace $@

$(OUTPUT) $(OUTPUT)/src $(OUTPUT)/tests $(OUTPUT)/fixtures:
	$(Q)mkdir -p $@

$(BPF_OBJ): bpf/leaktrace.bpf.c bpf/arch.bpf.h bpf/helpers.bpf.h bpf/unwind.bpf.h bpf/mappings.bpf.h \
		bpf/leaktrace.h bpf/block_slot.h vmlinux/$(ARCH)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 $(BPF_WARNINGS) -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf \
		-c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(SKEL): $(BPF_OBJ)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name leaktrace_bpf > $@

$(KMEM_OBJ): bpf/kmem.bpf.c bpf/leaktrace.h vmlinux/$(ARCH)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 $(BPF_WARNINGS) -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf \
		-c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(KMEM_SKEL): $(KMEM_OBJ)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name kmem_bpf > $@

# Only the files that include the skeleton wait for the BPF build (-MMD finds it after).
SKEL_USERS := tracer
$(foreach o,$(SKEL_USERS),$(OUTPUT)/src/$(o).o $(OUTPUT)/fuzz/src/$(o).o $(OUTPUT)/asan/src/$(o).o): \
	$(SKEL)
$(foreach o,kmem,$(OUTPUT)/src/$(o).o $(OUTPUT)/fuzz/src/$(o).o $(OUTPUT)/asan/src/$(o).o): \
	$(KMEM_SKEL)

$(OUTPUT)/src/%.o: src/%.c | $(OUTPUT)/src
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

# The default suppressions, one readable file compiled in as a C string.
$(OUTPUT)/suppress_default.h: src/suppress_default.supp | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@

$(OUTPUT)/src/suppress.o: $(OUTPUT)/suppress_default.h

$(OUTPUT)/leaktrace: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(STATIC_LIBS) -lpthread -lm -o $@

.PHONY: man test-man test-completion static test-static uninstall test-install deb test-deb

# Man pages: doc/man/NAME.8.scd rendered by scdoc; tests/man/check.sh holds them to their --help.
MAN_PAGES  := $(patsubst doc/man/%.scd,$(OUTPUT)/man/%,$(wildcard doc/man/*.8.scd))

all: man
man: $(MAN_PAGES)

$(OUTPUT)/man/%: doc/man/%.scd
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scdoc < $< > $@

test-man: leaktrace man
	$(Q)tests/man/check.sh $(OUTPUT)/man ./leaktrace tools/leak-sweep

# Shell completion (completion/): bash's driven word by word, zsh's on a pseudo-terminal.
test-completion: leaktrace
	$(Q)tests/completion/check.sh $(CURDIR)/leaktrace $(CURDIR)/tools/leak-sweep

# make static: leaktrace linked fully statically (glibc too, static-pie): it needs no libc on the
# host, so it runs on old userlands (glibc 2.17 of RHEL 7, Amazon Linux 2) and on none; the same
# objects but debuginfo.c's, which then never loads libdebuginfod (a static dlopen needs the
# glibc it was linked with). tests/static/check.sh runs it in a root with nothing else.
STATIC_OBJS := $(filter-out $(OUTPUT)/src/debuginfo.o,$(OBJS)) $(OUTPUT)/static/debuginfo.o

static: $(OUTPUT)/static/leaktrace

$(OUTPUT)/static/debuginfo.o: src/debuginfo.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) -DLT_STATIC_BUILD=1 -MMD -MP -c $< -o $@

$(OUTPUT)/static/leaktrace: $(STATIC_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(RELR_LDFLAGS) -static-pie $^ $(filter-out -Wl%,$(STATIC_LIBS)) -lpthread -lm -o $@

test-static: leaktrace $(OUTPUT)/static/leaktrace $(OUTPUT)/fixtures/leaky-static
	$(Q)tests/static/check.sh $(OUTPUT)

# A static leaky program: what a root without libc can run.
$(OUTPUT)/fixtures/leaky-static: tests/fixtures/leaky.c | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -g -O1 -fno-omit-frame-pointer -fno-inline -static $< -o $@

# Fixtures: small leaky programs that print their own ground truth.
fixtures: $(FIXTURE_BINS)
	$(if $(HAVE_RUSTC),,@echo "  SKIP     $(RUST_FIXTURES): no $(RUSTC) (apt-get install rustc);" \
		"their tests are skipped")
	$(if $(HAVE_GO),,@echo "  SKIP     $(OUTPUT)/fixtures/leaky_cgo: no $(GO) (apt-get install" \
		"golang-go); its test is skipped")

$(OUTPUT)/fixtures/%-fp: tests/fixtures/%.c | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -g -O1 -fno-omit-frame-pointer -fno-inline -pthread $< -o $@

# A static binary: its own malloc, the allocator an exec into it brings (-p, run mode).
$(OUTPUT)/fixtures/children-static: tests/fixtures/children.c | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -g -O1 -fomit-frame-pointer -fno-inline -static $< -o $@

# AddressSanitizer's allocator, whose LeakSanitizer ptraces the process at exit.
$(OUTPUT)/fixtures/children-asan: tests/fixtures/children.c | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -g -O1 -fsanitize=address $< -o $@

$(OUTPUT)/fixtures/%-nofp: tests/fixtures/%.c | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -g -O1 -fomit-frame-pointer -fno-inline -pthread $< -o $@

$(OUTPUT)/fixtures/%-fp: tests/fixtures/%.cc | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CXX) -g -O1 -fno-omit-frame-pointer -fno-inline -pthread $< -o $@

$(OUTPUT)/fixtures/%-nofp: tests/fixtures/%.cc | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CXX) -g -O1 -fomit-frame-pointer -fno-inline -pthread $< -o $@

$(OUTPUT)/fixtures/leaky_rust-legacy: tests/fixtures/leaky_rust.rs | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(RUSTC) -g -C opt-level=1 $< -o $@

$(OUTPUT)/fixtures/leaky_rust-v0: tests/fixtures/leaky_rust.rs | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(RUSTC) -g -C opt-level=1 -C symbol-mangling-version=v0 --cfg v0 $< -o $@

# GOPATH mode (no go.mod needed), its build cache in $(OUTPUT).
$(OUTPUT)/fixtures/leaky_cgo: tests/fixtures/leaky_cgo.go | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)GOCACHE=$(CURDIR)/$(OUTPUT)/go-cache GO111MODULE=off CGO_ENABLED=1 CGO_CFLAGS="-g -O1" \
		$(GO) build -o $@ $<

$(OUTPUT)/fixtures/bigso-linked-nofp: tests/fixtures/bigso.c | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -g -O1 -fomit-frame-pointer -fno-inline -DLINKED $< -o $@ $(LIBLLVM)

# A library without frame pointers that leaks, loaded by dlplug with dlopen (no sibling calls:
# every function keeps its frame).
$(OUTPUT)/fixtures/libplug-nofp.so: tests/fixtures/plug/plug.c | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -g -O1 -fomit-frame-pointer -fno-inline -fno-optimize-sibling-calls -shared -fPIC \
		$< -o $@

# A FUSE daemon that stops answering when told, as any user's may (test_hostile.c): libfuse3.
$(OUTPUT)/fixtures/fusestall: tests/fixtures/fuse/fusestall.c | $(OUTPUT)/fixtures
	$(call msg,FIXTURE,$@)
	$(Q)$(CC) -g -O1 $(WARNINGS) $$(pkg-config --cflags fuse3) $< -o $@ $$(pkg-config --libs fuse3)

$(OUTPUT)/fixtures/syms-stripped: $(OUTPUT)/fixtures/syms-nofp
	$(Q)strip -o $@ $<

# Leaks from functions no symbol names: their frames keep module, module_offset and build_id.
$(OUTPUT)/fixtures/leaky-stripped: $(OUTPUT)/fixtures/leaky-nofp
	$(Q)strip -o $@ $<

# A binary whose symbols live only in a separate debug file, found by .gnu_debuglink.
$(OUTPUT)/fixtures/syms-debuglink: $(OUTPUT)/fixtures/syms-nofp
	$(Q)objcopy --only-keep-debug $< $@.debug
	$(Q)strip -o $@ $<
	$(Q)cd $(OUTPUT)/fixtures && objcopy --add-gnu-debuglink=syms-debuglink.debug syms-debuglink

# Test tables give frames positionally and leave the fields added since (file, line) zero.
$(OUTPUT)/tests/unit: $(UNIT_SRCS) $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -Wno-missing-field-initializers $(CPPFLAGS) $^ $(STATIC_LIBS) $(TEST_LIBS) -lpthread -lm -o $@

# arm64's decoders (src/arch_arm64.c but for its registers) and their unit tests, built for an
# x86-64 host too: its placement and frame rules checked on every CI machine. (x86's tests read
# the host's own x86-64 libraries: not built the other way round.)
ARCH_TESTS  := $(if $(filter x86,$(ARCH)),$(OUTPUT)/tests/unit-arch-arm64)
$(OUTPUT)/tests/unit-arch-%: tests/unit/test_arch_%.c src/arch_%.c src/arch_%.h src/arch.h | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -Wno-missing-field-initializers $(CPPFLAGS) \
		-DARCH_FOREIGN_$* tests/unit/test_arch_$*.c src/arch_$*.c $(TEST_LIBS) -o $@

$(OUTPUT)/tests/integration: $(INTEG_SRCS) | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) $^ $(TEST_LIBS) -o $@

$(OUTPUT)/fuzz/src/%.o: src/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARNINGS) $(CPPFLAGS) -MMD -MP \
		-c $< -o $@

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_file.h $(FUZZ_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARNINGS) $(CPPFLAGS) -Itests/fuzz \
		$< $(FUZZ_OBJS) $(STATIC_LIBS) -lpthread -lm -o $@

# Each harness for FUZZ_SECONDS, new inputs kept in $(OUTPUT)/fuzz/corpus/NAME (the committed
# seeds are read, not written); a crash stops it with its input saved as crash-*.
fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZERS); do \
		mkdir -p $(OUTPUT)/fuzz/corpus/$$f $(OUTPUT)/fuzz/crashes && \
		echo "  FUZZ     $$f for $(FUZZ_SECONDS) s" && \
		$(OUTPUT)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
			$(FUZZ_FLAGS) -print_final_stats=1 -artifact_prefix=$(OUTPUT)/fuzz/crashes/$$f- \
			$(OUTPUT)/fuzz/corpus/$$f tests/fuzz/$$f 2>$(OUTPUT)/fuzz/$$f.log || \
			{ tail -n 40 $(OUTPUT)/fuzz/$$f.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' $(OUTPUT)/fuzz/$$f.log | \
			tail -n 2 | sed 's/^/           /'; \
	done

# CI: each harness for a short while. Crashes and undefined behaviour fail it; leaks do not:
# libelf itself leaks on some malformed files (__libelf_set_rawdata_wrlock, elfutils 0.188),
# which a random input would make a random failure. `make fuzz` and the ASan suites count leaks.
fuzz-smoke:
	$(Q)ASAN_OPTIONS=detect_leaks=0 $(MAKE) --no-print-directory fuzz \
		FUZZ_SECONDS=$(or $(FUZZ_SMOKE_SECONDS),10) FUZZ_FLAGS=-detect_leaks=0

$(OUTPUT)/asan/src/%.o: src/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O1 $(ASAN_SAN) $(WARNINGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/asan/leaktrace: $(ASAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ASAN_SAN) -static-libasan -static-libubsan $^ $(STATIC_LIBS) -lpthread -lm -o $@

$(OUTPUT)/asan/tests/unit: $(UNIT_SRCS) $(ASAN_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -g -O1 $(ASAN_SAN) $(WARNINGS) -Wno-missing-field-initializers $(CPPFLAGS) $^ $(STATIC_LIBS) $(TEST_LIBS) \
		-lpthread -lm -o $@

# The unit suite built with ASan and UBSan (part of make test: 20 s once built), and the
# integration suite (the test code as usual) running leaktrace built with them (5.5 minutes
# with the unit half; make test runs part of it, see test-integration): any report, a leak
# of leaktrace's own too, fails.
test-asan-unit:
	$(Q)$(MAKE) --no-print-directory fixtures $(OUTPUT)/asan/tests/unit
	@# A leak is found as a test's worker exits, which Criterion does not count: read the log.
	$(Q)ASAN_OPTIONS=detect_leaks=1 $(OUTPUT)/asan/tests/unit --jobs 2 \
		>$(OUTPUT)/asan/unit.log 2>&1; rc=$$?; cat $(OUTPUT)/asan/unit.log; \
		[ $$rc -eq 0 ] && ! grep -qE 'Sanitizer|runtime error' $(OUTPUT)/asan/unit.log

test-asan: test-asan-unit
	$(Q)$(MAKE) --no-print-directory asan-top $(OUTPUT)/tests/integration
	$(Q)if [ "$$(id -u)" -ne 0 ]; then \
		echo "make test-asan: the integration tests load BPF programs: run them as root"; exit 1; fi
	$(Q)$(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1

# leaktrace built with ASan and UBSan, where the integration suite runs it: the suite finds
# tools/, deploy/ and tests/deploy beside LEAKTRACE, so a tree of links stands in for the top.
asan-top: $(OUTPUT)/asan/leaktrace
	$(Q)mkdir -p $(OUTPUT)/asan/top && ln -sfn ../leaktrace $(OUTPUT)/asan/top/leaktrace && \
		ln -sfn $(CURDIR)/tools $(OUTPUT)/asan/top/tools && \
		ln -sfn $(CURDIR)/deploy $(OUTPUT)/asan/top/deploy && \
		ln -sfn $(CURDIR)/tests $(OUTPUT)/asan/top/tests

# The offline report path alone: linked from REPORT_OBJS without libbpf, it converts the golden
# snapshot as ./leaktrace report does; and the include graph has no cycle and no layer including
# a higher one.
$(OUTPUT)/report-only: tests/layers/report_only.c $(REPORT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) $^ $(REPORT_LIBS) -lpthread -lm -o $@

check-layers: $(OUTPUT)/report-only
	$(Q)tools/check-includes
	$(Q)! nm $(OUTPUT)/report-only | grep -E ' [TU] (bpf_|tracer__|snap_source__|libbpf_)' && \
		$(OUTPUT)/report-only tests/unit/golden/snapshot.json --format json | \
		cmp - tests/unit/golden/snapshot.json && \
		echo "  LAYERS   leaktrace report links without the tracer and libbpf"

deps:
	$(Q)tools/install-deps test

test: deps
	$(Q)$(MAKE) --no-print-directory leaktrace fixtures $(OUTPUT)/tests/unit $(OUTPUT)/tests/integration \
		asan-top
	$(Q)$(MAKE) --no-print-directory format-check check-layers test-unit test-integration test-kernels fuzz-smoke \
		test-asan-unit
	@# Packaging: man pages against --help, completion, install, the static build (20 s).
	$(Q)$(MAKE) --no-print-directory test-man test-completion test-install test-static

test-unit: $(ARCH_TESTS)
	$(Q)$(OUTPUT)/tests/unit --jobs 2
	$(Q)for t in $(ARCH_TESTS); do $$t --jobs 2 || exit 1; done

test-integration: asan-top
	$(Q)if [ "$$(id -u)" -ne 0 ]; then \
		echo "make test: the integration tests load BPF programs: run them as root"; exit 1; fi
	$(Q)LEAKTRACE=$(CURDIR)/leaktrace FIXTURES=$(CURDIR)/$(OUTPUT)/fixtures \
		$(OUTPUT)/tests/integration --jobs 1
	@# The reruns below run leaktrace built with ASan and UBSan (make test-asan's, any report
	@# fails), so that CI has the sanitizers on these suites without a run of its own.
	@# Kernels before 6.6 take another path (a link per probe): run mode there too.
	$(Q)LEAKTRACE_NO_MULTI=1 $(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1 \
		--filter '@(run_mode|children|mmap_hook)/*'
	$(Q)LEAKTRACE_NO_MULTI=1 $(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1 \
		--filter 'system/sigkill*'
	$(Q)LEAKTRACE_NO_MULTI=1 $(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1 \
		--filter 'agent/non_target*'
	$(Q)LEAKTRACE_NO_MULTI=1 $(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1 \
		--filter '$(VERDICTS_EVERY_PATH)'
	@# Kernels 6.6 to 6.12 have uprobe_multi links but no sessions: run mode and sampling there.
	$(Q)LEAKTRACE_NO_SESSION=1 $(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1 \
		--filter '@(run_mode|children|mmap_hook)/*'
	$(Q)LEAKTRACE_NO_SESSION=1 $(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1 \
		--filter 'sampling/*'
	$(Q)LEAKTRACE_NO_SESSION=1 $(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1 \
		--filter 'agent/non_target*'
	$(Q)LEAKTRACE_NO_SESSION=1 $(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1 \
		--filter '$(VERDICTS_EVERY_PATH)'
	@# Kernels before 5.13 keep every thread's state and block's record in hashes: run mode there.
	$(Q)LEAKTRACE_THREAD_SLOTS=0 LEAKTRACE_BLOCK_SLOTS=0 $(ASAN_RUN) $(OUTPUT)/tests/integration \
		--jobs 1 --filter '@(run_mode|children)/*'
	@# Slots taken: most threads and blocks go to the hashes, the others stay in slots.
	$(Q)LEAKTRACE_THREAD_SLOTS=1 LEAKTRACE_BLOCK_SLOTS=16 $(ASAN_RUN) $(OUTPUT)/tests/integration \
		--jobs 1 --filter '@(run_mode|scan|attach_mode|children)/*'
	@# The rest of leaktrace's code (symbols, unwinding, verdicts, exports, suppressions,
	@# errors, hostile files) under the sanitizers on the default path.
	$(Q)$(ASAN_RUN) $(OUTPUT)/tests/integration --jobs 1 --filter '$(ASAN_SUITES)'

# The scenarios that matter most on this kernel and, under qemu, on Debian 12's 6.1 and 6.12
# (tests/kernels/run.sh): one matrix of kernels, features and scenarios passed. On an x86-64
# host, Debian 12's arm64 6.1 and 6.12 too, with leaktrace and the fixtures cross-built
# (KERNELS_ARM64=0 leaves them out).
KERNEL_FIXTURES := leaky-fp leaky-nofp leaky_cxx-nofp kpipes-nofp
KERNELS_ARM64   ?= $(if $(filter x86,$(HOST_ARCH)),1,0)
test-kernels:
	$(Q)tools/install-deps kernels
	$(Q)$(MAKE) --no-print-directory leaktrace $(addprefix $(OUTPUT)/fixtures/,$(KERNEL_FIXTURES))
	$(Q)if [ "$(KERNELS_ARM64)" = 1 ]; then tools/install-deps cross-arm64 && \
		$(MAKE) --no-print-directory ARCH=arm64 .output/arm64/leaktrace \
		$(addprefix .output/arm64/fixtures/,$(KERNEL_FIXTURES)); fi
	$(Q)if [ "$$(id -u)" -ne 0 ]; then \
		echo "make test-kernels: the scenarios load BPF programs: run it as root"; exit 1; fi
	$(Q)tests/kernels/run.sh $(OUTPUT)/leaktrace $(OUTPUT)/fixtures $(OUTPUT)/kernels \
		$(if $(filter 1,$(KERNELS_ARM64)),.output/arm64/leaktrace .output/arm64/fixtures)

demo:
	$(Q)tools/install-deps build
	$(Q)$(MAKE) --no-print-directory leaktrace $(OUTPUT)/fixtures/demo-fp
	$(Q)tests/demo.sh $(OUTPUT)/fixtures/demo-fp

bench:
	$(Q)tools/install-deps bench
	$(Q)$(MAKE) --no-print-directory leaktrace fixtures
	$(Q)tests/bench/run.sh

# The verdict bar: run mode against valgrind --leak-check=full on 35 of Debian's programs, every
# kind of the LEAK SUMMARY in bytes and blocks (tests/bar/bar.sh; BAR="gawk mawk" for some).
# A measurement: it prints how many equal valgrind's, into $(OUTPUT)/bar. About 3 minutes.
bar:
	$(Q)tools/install-deps bar
	$(Q)$(MAKE) --no-print-directory leaktrace
	$(Q)BAR_OUT=$(OUTPUT)/bar tests/bar/bar.sh $(BAR)

# leaktrace's own memory over a long churning run (SOAK_SECONDS=600 by default).
soak:
	$(Q)$(MAKE) --no-print-directory leaktrace $(OUTPUT)/fixtures/leaky-nofp
	$(Q)tests/soak.sh $(or $(SOAK_SECONDS),600)

# leaktrace agent over an hour (SOAK_SECONDS=3600 by default) on 50 processes that start,
# leak slowly and exit: its RSS, map memory, history, /metrics and --state-dir stay bounded.
# Not part of make test: it takes the hour.
soak-agent:
	$(Q)$(MAKE) --no-print-directory leaktrace $(OUTPUT)/fixtures/leaky-nofp
	$(Q)SOAK_SECONDS=$(or $(SOAK_SECONDS),3600) tests/soak/agent.sh $(OUTPUT)/leaktrace \
		$(OUTPUT)/fixtures/leaky-nofp

# The C sources against .clang-format (tuned on clang-format 14, Debian 12's): format-check
# shows every line it would change and fails if any; format rewrites them.
CLANG_FORMAT ?= clang-format-14
# Not the fixtures: tests assert their source lines and what the compiler inlines.
FORMAT_SRCS := $(wildcard src/*.c src/*.h bpf/*.c bpf/*.h) \
	       $(filter-out tests/fixtures/%,$(wildcard tests/*/*.c tests/*/*.h tests/*/*.cc))

format-check:
	$(Q)$(CLANG_FORMAT) --dry-run -Werror $(FORMAT_SRCS)

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_SRCS)

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary stripped, its debug info apart (found
# by build ID, where Debian's -dbgsym packages put it), leak-sweep, the man pages, bash and zsh
# completion, deploy/ (systemd units where systemd finds them, all of it as examples), the docs.
# make uninstall removes what install wrote (tests/install/check.sh lists it).
PREFIX         ?= /usr/local
BINDIR         ?= $(PREFIX)/bin
MANDIR         ?= $(PREFIX)/share/man
DOCDIR         ?= $(PREFIX)/share/doc/leaktrace
DATADIR        ?= $(PREFIX)/share/leaktrace
DEBUGDIR       ?= $(PREFIX)/lib/debug
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR     ?= $(PREFIX)/share/zsh/site-functions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DEPLOY_FILES   := $(shell find deploy -type f 2>/dev/null | LC_ALL=C sort)
DEPLOY_UNITS   := $(filter %.service %.socket %.timer,$(DEPLOY_FILES))
DOC_FILES      := README.md LICENSE $(wildcard LICENSES/*) doc/leaktrace-snapshot.schema.json
# DEBUG_APART=no installs the binary as built, debug info and all (debian/rules: dh_strip then
# makes the -dbgsym package).
DEBUG_APART    ?= yes
INSTALL_BIN    := $(if $(filter no,$(DEBUG_APART)),$(OUTPUT)/leaktrace,$(OUTPUT)/install/leaktrace)
# .build-id/xx/rest.debug of the binary $(1).
debug_path      = .build-id/$(shell readelf -n $(1) 2>/dev/null | \
	sed -n 's/.*Build ID: \(..\)\(.*\)/\1\/\2/p').debug

# The stripped binary and its debug file, linked by .gnu_debuglink as well as by build ID.
$(OUTPUT)/install/leaktrace: $(OUTPUT)/leaktrace
	$(call msg,STRIP,$@)
	$(Q)mkdir -p $(@D)
	$(Q)objcopy --only-keep-debug --compress-debug-sections $< $(@D)/leaktrace.debug
	$(Q)strip --strip-all -o $@ $<
	$(Q)cd $(@D) && objcopy --add-gnu-debuglink=leaktrace.debug leaktrace

$(OUTPUT)/install/%.8.gz: $(OUTPUT)/man/%.8
	$(Q)mkdir -p $(@D)
	$(Q)gzip -9n < $< > $@

install: $(INSTALL_BIN) $(patsubst $(OUTPUT)/man/%,$(OUTPUT)/install/%.gz,$(MAN_PAGES))
	$(Q)install -D -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/leaktrace
	$(Q)$(if $(filter no,$(DEBUG_APART)),:,install -D -m 0644 $(OUTPUT)/install/leaktrace.debug \
		$(DESTDIR)$(DEBUGDIR)/$(call debug_path,$(OUTPUT)/install/leaktrace))
	$(Q)install -D -m 0755 tools/leak-sweep $(DESTDIR)$(BINDIR)/leak-sweep
	$(Q)for m in $(notdir $(MAN_PAGES)); do \
		install -D -m 0644 $(OUTPUT)/install/$$m.gz $(DESTDIR)$(MANDIR)/man8/$$m.gz || exit 1; done
	$(Q)install -D -m 0644 completion/leaktrace.bash $(DESTDIR)$(BASHCOMPDIR)/leaktrace
	$(Q)ln -sf leaktrace $(DESTDIR)$(BASHCOMPDIR)/leak-sweep
	$(Q)install -D -m 0644 completion/_leaktrace $(DESTDIR)$(ZSHCOMPDIR)/_leaktrace
	$(Q)for f in $(DOC_FILES); do install -D -m 0644 $$f $(DESTDIR)$(DOCDIR)/$$f || exit 1; done
	$(Q)for f in $(DEPLOY_FILES); do \
		install -D -m 0644 $$f $(DESTDIR)$(DATADIR)/$$f || exit 1; done
	@# A unit runs the leaktrace installed here, wherever its file says it is.
	$(Q)for f in $(DEPLOY_UNITS); do \
		sed -E 's|/usr(/local)?/s?bin/leaktrace|$(BINDIR)/leaktrace|g' $$f > $(OUTPUT)/install/unit && \
		install -D -m 0644 $(OUTPUT)/install/unit $(DESTDIR)$(SYSTEMDUNITDIR)/$${f##*/} || exit 1; \
	done
	@echo "  INSTALL  $(DESTDIR)$(PREFIX)"

test-install: leaktrace man
	$(Q)tests/install/check.sh

# make deb: the Debian package (debian/, debhelper) into $(OUTPUT)/, built from a copy of the
# tree (the files git knows, committed or not) in $(OUTPUT)/deb, then lintian (errors fail).
# make test-deb installs it into a fresh Debian 12 root and traces a command there.
deb:
	$(Q)tools/install-deps deb
	$(Q)rm -rf $(OUTPUT)/deb && mkdir -p $(OUTPUT)/deb/leaktrace
	$(Q)git ls-files -co --exclude-standard | while read -r f; do [ -e "$$f" ] && echo "$$f"; done | \
		tar -c -T - | tar -x -C $(OUTPUT)/deb/leaktrace
	$(call msg,DEB,$(OUTPUT)/deb)
	$(Q)cd $(OUTPUT)/deb/leaktrace && dpkg-buildpackage -b -us -uc -j2 >../build.log 2>&1 || \
		{ tail -n 30 ../build.log; exit 1; }
	$(Q)cp $(OUTPUT)/deb/*.deb $(OUTPUT)/
	$(Q)lintian --fail-on error --display-level '>=warning' $(OUTPUT)/deb/*.changes
	$(Q)ls $(OUTPUT)/deb/*.deb | sed 's/^/  DEB      /'

test-deb: deb $(OUTPUT)/fixtures/leaky-nofp
	$(Q)tests/deb/check.sh $(OUTPUT)

# The debug file is the one of the binary installed, whatever has been built since.
uninstall:
	$(Q)rm -f $(DESTDIR)$(DEBUGDIR)/$(call debug_path,$(DESTDIR)$(BINDIR)/leaktrace)
	$(Q)rm -f $(DESTDIR)$(BINDIR)/leaktrace $(DESTDIR)$(BINDIR)/leak-sweep \
		$(patsubst %,$(DESTDIR)$(MANDIR)/man8/%.gz,$(notdir $(MAN_PAGES))) \
		$(DESTDIR)$(BASHCOMPDIR)/leaktrace $(DESTDIR)$(BASHCOMPDIR)/leak-sweep \
		$(DESTDIR)$(ZSHCOMPDIR)/_leaktrace \
		$(patsubst %,$(DESTDIR)$(SYSTEMDUNITDIR)/%,$(notdir $(DEPLOY_UNITS)))
	$(Q)rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)
	@echo "  UNINSTALL $(DESTDIR)$(PREFIX)"

clean:
	$(Q)rm -rf $(OUTPUT) leaktrace

-include $(OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(ASAN_OBJS:.o=.d)
-include $(OUTPUT)/static/debuginfo.d
