# leaktrace: build, test, bench, demo. Everything built goes to .output/; the binary is ./leaktrace.
# `make V=1` shows the commands.

OUTPUT     := .output
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CC         ?= cc
CLANG      ?= clang
BPFTOOL    ?= bpftool
CFLAGS     ?= -g -O2
WARNINGS   := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS   += -I$(OUTPUT) -Ibpf -Isrc -D_GNU_SOURCE
# libbpf, libdw (unwind tables; it needs bzip2 and xz), libelf, zlib, jansson (reading snapshots),
# libstdc++ (only its C++ demangler) and capstone (x86 decoding) are linked statically, so the
# binary runs on hosts without them. (One line: tests/bench/run.sh reads it.)
STATIC_LIBS := -Wl,-Bstatic -lbpf -ldw -lelf -lz -lbz2 -llzma -ljansson -lstdc++ -lcapstone -Wl,-Bdynamic
TEST_LIBS  := -lcriterion -ljansson

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SRCS       := $(wildcard src/*.c)
OBJS       := $(patsubst src/%.c,$(OUTPUT)/src/%.o,$(SRCS))
LIB_OBJS   := $(filter-out $(OUTPUT)/src/main.o,$(OBJS))
BPF_OBJ    := $(OUTPUT)/leaktrace.bpf.o
SKEL       := $(OUTPUT)/leaktrace.skel.h

UNIT_SRCS  := $(wildcard tests/unit/*.c)
INTEG_SRCS := $(wildcard tests/integration/*.c)
FIXTURES   := $(patsubst tests/fixtures/%.c,%,$(wildcard tests/fixtures/*.c)) \
	$(patsubst tests/fixtures/%.cc,%,$(wildcard tests/fixtures/*.cc))
# Each fixture twice: with frame pointers (-fp) and without, Debian's default (-nofp).
FIXTURE_BINS := $(foreach f,$(FIXTURES),$(OUTPUT)/fixtures/$(f)-fp $(OUTPUT)/fixtures/$(f)-nofp) \
	$(OUTPUT)/fixtures/syms-stripped $(OUTPUT)/fixtures/syms-debuglink \
	$(OUTPUT)/fixtures/leaky-stripped \
	$(OUTPUT)/fixtures/children-static $(OUTPUT)/fixtures/children-asan

.DELETE_ON_ERROR:
.PHONY: all clean deps test test-unit test-integration test-kernels bench demo install fixtures soak

all: leaktrace

leaktrace: $(OUTPUT)/leaktrace
	$(Q)ln -sf $(OUTPUT)/leaktrace $@

$(OUTPUT) $(OUTPUT)/src $(OUTPUT)/tests $(OUTPUT)/fixtures:
	$(Q)mkdir -p $@

$(BPF_OBJ): bpf/leaktrace.bpf.c bpf/unwind.bpf.h bpf/leaktrace.h vmlinux/$(ARCH)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf \
		-c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(SKEL): $(BPF_OBJ)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name leaktrace_bpf > $@

$(OUTPUT)/src/%.o: src/%.c $(SKEL) | $(OUTPUT)/src
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

# The default suppressions, one readable file compiled in as a C string.
$(OUTPUT)/suppress_default.h: src/suppress_default.supp | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@

$(OUTPUT)/src/suppress.o: $(OUTPUT)/suppress_default.h

$(OUTPUT)/leaktrace: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(STATIC_LIBS) -lpthread -lm -o $@

# Fixtures: small leaky programs that print their own ground truth.
fixtures: $(FIXTURE_BINS)

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

$(OUTPUT)/tests/unit: $(UNIT_SRCS) $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) $^ $(STATIC_LIBS) $(TEST_LIBS) -lpthread -lm -o $@

$(OUTPUT)/tests/integration: $(INTEG_SRCS) | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) $(CPPFLAGS) $^ $(TEST_LIBS) -o $@

deps:
	$(Q)tools/install-deps test

test: deps
	$(Q)$(MAKE) --no-print-directory leaktrace fixtures $(OUTPUT)/tests/unit $(OUTPUT)/tests/integration
	$(Q)$(MAKE) --no-print-directory test-unit test-integration test-kernels

test-unit:
	$(Q)$(OUTPUT)/tests/unit --jobs 2

test-integration:
	$(Q)if [ "$$(id -u)" -ne 0 ]; then \
		echo "make test: the integration tests load BPF programs: run them as root"; exit 1; fi
	$(Q)LEAKTRACE=$(CURDIR)/leaktrace FIXTURES=$(CURDIR)/$(OUTPUT)/fixtures \
		$(OUTPUT)/tests/integration --jobs 1
	@# Kernels before 6.6 take another path (a link per probe): run mode there too.
	$(Q)LEAKTRACE_NO_MULTI=1 LEAKTRACE=$(CURDIR)/leaktrace FIXTURES=$(CURDIR)/$(OUTPUT)/fixtures \
		$(OUTPUT)/tests/integration --jobs 1 --filter '@(run_mode|children)/*'
	$(Q)LEAKTRACE_NO_MULTI=1 LEAKTRACE=$(CURDIR)/leaktrace FIXTURES=$(CURDIR)/$(OUTPUT)/fixtures \
		$(OUTPUT)/tests/integration --jobs 1 --filter 'system/sigkill*'
	@# Kernels 6.6 to 6.12 have uprobe_multi links but no sessions: run mode and sampling there.
	$(Q)LEAKTRACE_NO_SESSION=1 LEAKTRACE=$(CURDIR)/leaktrace FIXTURES=$(CURDIR)/$(OUTPUT)/fixtures \
		$(OUTPUT)/tests/integration --jobs 1 --filter '@(run_mode|children)/*'
	$(Q)LEAKTRACE_NO_SESSION=1 LEAKTRACE=$(CURDIR)/leaktrace FIXTURES=$(CURDIR)/$(OUTPUT)/fixtures \
		$(OUTPUT)/tests/integration --jobs 1 --filter 'sampling/*'
	@# Kernels before 5.13 keep every thread's state and block's record in hashes: run mode there.
	$(Q)LEAKTRACE_THREAD_SLOTS=0 LEAKTRACE_BLOCK_SLOTS=0 LEAKTRACE=$(CURDIR)/leaktrace \
		FIXTURES=$(CURDIR)/$(OUTPUT)/fixtures $(OUTPUT)/tests/integration --jobs 1 \
		--filter '@(run_mode|children)/*'
	@# Slots taken: most threads and blocks go to the hashes, the others stay in slots.
	$(Q)LEAKTRACE_THREAD_SLOTS=1 LEAKTRACE_BLOCK_SLOTS=16 LEAKTRACE=$(CURDIR)/leaktrace \
		FIXTURES=$(CURDIR)/$(OUTPUT)/fixtures $(OUTPUT)/tests/integration --jobs 1 \
		--filter '@(run_mode|scan|attach_mode|children)/*'

# The scenarios that matter most on this kernel and, under qemu, on Debian 12's 6.1 and 6.12
# (tests/kernels/run.sh): one matrix of kernels, features and scenarios passed.
test-kernels:
	$(Q)tools/install-deps kernels
	$(Q)$(MAKE) --no-print-directory leaktrace $(OUTPUT)/fixtures/leaky-fp $(OUTPUT)/fixtures/leaky-nofp \
		$(OUTPUT)/fixtures/leaky_cxx-nofp
	$(Q)if [ "$$(id -u)" -ne 0 ]; then \
		echo "make test-kernels: the scenarios load BPF programs: run it as root"; exit 1; fi
	$(Q)tests/kernels/run.sh $(OUTPUT)/leaktrace $(OUTPUT)/fixtures $(OUTPUT)/kernels

demo:
	$(Q)tools/install-deps build
	$(Q)$(MAKE) --no-print-directory leaktrace $(OUTPUT)/fixtures/demo-fp
	$(Q)tests/demo.sh $(OUTPUT)/fixtures/demo-fp

bench:
	$(Q)tools/install-deps bench
	$(Q)$(MAKE) --no-print-directory leaktrace fixtures
	$(Q)tests/bench/run.sh

# leaktrace's own memory over a long churning run (SOAK_SECONDS=600 by default).
soak:
	$(Q)$(MAKE) --no-print-directory leaktrace $(OUTPUT)/fixtures/leaky-nofp
	$(Q)tests/soak.sh $(or $(SOAK_SECONDS),600)

install: leaktrace
	install -D -m 0755 $(OUTPUT)/leaktrace $(DESTDIR)$(or $(PREFIX),/usr/local)/bin/leaktrace

clean:
	$(Q)rm -rf $(OUTPUT) leaktrace

-include $(OBJS:.o=.d)
