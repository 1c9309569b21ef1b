# pefleet: build, test, fuzz and benchmark.
# make deps   install the Debian packages the project needs (root, idempotent):
#             deps-build (what building needs; the image's build stage) and
#             deps-test (what the tests and benchmarks run)
# make        build everything into ./bin/
# make test   deps + build + every test; ends with "N passed, N failed"
# make GPU=0  build without the GPU training path even when CUDA is present
# make compose-test  the fleet in a real container engine (root; tests/compose/)
# make compose-up    the fleet on Docker Compose for users (secrets/ and .env made once)

CC       ?= cc
BUILD    ?= build
BIN      ?= bin
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
LIB_LAYERS := base pe model store eval net report
CPPFLAGS += -std=c11 -D_GNU_SOURCE $(addprefix -Ilib/,$(LIB_LAYERS)) -Itrainer -I$(BUILD)/proto $(shell pkg-config --cflags-only-I hiredis hdf5 openblas 2>/dev/null) $(EXTRA_CPPFLAGS)
# the supervisor of `pefleet up` (supervisor/README.md): code linked into pefleet
CPPFLAGS += -Isupervisor
ALL_CFLAGS = $(CFLAGS) $(WARN) -fno-math-errno $(EXTRA_CFLAGS)
LDLIBS   := -Wl,--as-needed -lLIEF -lzmq -lhiredis -lprotobuf-c $(shell pkg-config --libs hdf5 openblas 2>/dev/null) \
            -lcrypto -lseccomp -lpthread -lm $(EXTRA_LDLIBS)

# what `make programs` needs (the Dockerfile's build stage installs only these)
DEB_BUILD_PACKAGES := build-essential pkg-config liblief-dev libssl-dev \
                libzmq3-dev libhiredis-dev libprotobuf-c-dev protobuf-c-compiler \
                libopenblas-dev libhdf5-dev libmicrohttpd-dev libseccomp-dev
# what the tests, fuzzing and benchmarks run (make compose-test: docker.io,
# debootstrap, docker-compose)
DEB_TEST_PACKAGES := clang libclang-rt-14-dev libcmocka-dev procps bc redis-server python3 python3-numpy \
                wrk curl iproute2 docker-compose docker.io debootstrap
# everything (make deps); a library the programs link belongs in
# DEB_BUILD_PACKAGES, or the image's build stage lacks it
DEB_PACKAGES = $(DEB_BUILD_PACKAGES) $(DEB_TEST_PACKAGES)

# The GPU training path (trainer/pf_train_gpu*.{c,cu}) is built when nvcc and
# cuDNN are found, and said so in one line; without them (or with GPU=0, or
# NVCC=/nonexistent) trainer/pf_train_gpu.c builds as stubs that answer "no
# GPU" and everything else is the same. A stamp file per choice rebuilds the
# objects when the choice changes.
CUDA_HOME ?= /usr/local/cuda
NVCC      ?= $(CUDA_HOME)/bin/nvcc
NVCCFLAGS ?= -O2 -std=c++17 -fmad=false -arch=all-major -Xcompiler -Wall,-Wextra
GPU       ?= auto
ifneq ($(GPU),0)
NVCC_FOUND := $(shell command -v $(NVCC) 2>/dev/null)
CUDNN_H    := $(firstword $(wildcard $(CUDA_HOME)/include/cudnn.h /usr/include/cudnn.h /usr/include/*-linux-gnu/cudnn.h))
CUDNN_SO   := $(firstword $(wildcard $(CUDA_HOME)/lib64/libcudnn.so /usr/lib/*-linux-gnu/libcudnn.so /usr/lib64/libcudnn.so))
CUBLAS_SO  := $(wildcard $(CUDA_HOME)/lib64/libcublas.so)
ifneq ($(and $(NVCC_FOUND),$(CUDNN_H),$(CUDNN_SO),$(CUBLAS_SO)),)
HAVE_GPU := 1
endif
endif
ifdef HAVE_GPU
CUDA_VERSION := $(shell $(NVCC) --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p')
GPU_MSG   := gpu: ✓ CUDA $(CUDA_VERSION) + cuDNN found, GPU training path built
GPU_LIBDIRS := $(sort $(patsubst %/,%,$(CUDA_HOME)/lib64 $(dir $(CUDNN_SO))))
CPPFLAGS  += -DPF_HAVE_GPU $(addprefix -isystem ,$(filter-out /usr/include,$(sort $(CUDA_HOME)/include $(patsubst %/,%,$(dir $(CUDNN_H))))))
# the kernels' host code is C++ (static guards): libstdc++ too
GPU_LDLIBS := $(foreach d,$(GPU_LIBDIRS),-L$(d) -Wl,-rpath,$(d)) -lcudnn -lcublas -lcudart -lstdc++
GPU_OBJ   := $(BUILD)/trainer/pf_train_gpu_kernels.o
GPU_STAMP := $(BUILD)/gpu-on.stamp
else
GPU_MSG   := gpu: ✗ no CUDA toolkit/cuDNN, building CPU only
GPU_STAMP := $(BUILD)/gpu-off.stamp
endif
ifeq ($(MAKELEVEL),0)
ifneq ($(filter-out clean deps deps-build deps-test,$(or $(MAKECMDGOALS),all)),)
$(info $(GPU_MSG))
endif
endif
LDLIBS += $(GPU_LDLIBS)

# the model report (pefleet report/relevance): cJSON reads the model folder's
# JSON files; Debian's chromium renders the page in tests/integration/report.sh
DEB_BUILD_PACKAGES += libcjson-dev
DEB_TEST_PACKAGES += chromium
# the LIEF differential test reads the PE files these packages ship
DEB_TEST_PACKAGES += grub-efi-amd64-bin systemd-boot-efi nsis-common
# pefleet-clamd is tested with the real ClamAV client (tests/integration/clamd_*.sh)
DEB_TEST_PACKAGES += clamdscan
LDLIBS += -lcjson

LIB_SRC  := $(foreach l,$(LIB_LAYERS),$(wildcard lib/$(l)/*.c))
PROTO_C  := $(BUILD)/proto/pefleet.pb-c.c
PROTO_H  := $(BUILD)/proto/pefleet.pb-c.h
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/proto/pefleet.pb-c.o $(BUILD)/trainer/pf_train_gpu.o $(BUILD)/trainer/pf_fit_gpu.o $(GPU_OBJ)
LIBA     := $(BUILD)/libpefleet.a
BROKER_SRC := $(wildcard broker/*.c)
WORKER_SRC := $(wildcard encoder-worker/*.c)
ROUTER_SRC := scorer/router_main.c scorer/router_table.c
SCORER_SRC := scorer/scorer_main.c scorer/scorer_model.c
GATEWAY_SRC := $(wildcard gateway/*.c)
SIMILAR_SRC := $(wildcard similar/*.c)
CLAMD_SRC := $(wildcard clamd/*.c)
PROGRAMS := $(BIN)/pefleet $(BIN)/pefleet-sandbox $(if $(BROKER_SRC),$(BIN)/pefleet-broker) \
            $(if $(WORKER_SRC),$(BIN)/pefleet-encoder-worker) $(BIN)/pefleet-score-router $(BIN)/pefleet-scorer $(BIN)/pefleet-trainer \
            $(if $(GATEWAY_SRC),$(BIN)/pefleet-gateway) $(if $(SIMILAR_SRC),$(BIN)/pefleet-similar) \
            $(if $(CLAMD_SRC),$(BIN)/pefleet-clamd)
SANDBOX_TEST_BIN := $(BUILD)/tests/pefleet-sandbox-hostile $(BUILD)/bench/pefleet-sandbox-unhardened
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all programs deps deps-build deps-test test check unit sanitize fuzz fuzz-run bench clean demo gpu-check
all: $(PROGRAMS) $(UNIT_BIN) $(TOOL_BIN) $(SANDBOX_TEST_BIN)
# the fleet's programs only (no unit tests or tools): what the image ships
programs: $(PROGRAMS)

# every object depends on exactly the headers it includes (-MMD -MP: the
# compiler writes them to a .d file beside the object, read below), the
# generated protobuf header among them: a changed message (a new field)
# rebuilds its users, or they pack a struct of the old size. The header is
# made first (order-only) so that the first build can include it.
DEPFLAGS = -MMD -MP
$(BUILD)/%.o: %.c $(GPU_STAMP) | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

# CUDA kernels (GPU builds only); the C flags and sanitizers stay with the C code
$(BUILD)/trainer/%.o: trainer/%.cu trainer/pf_train_gpu_kernels.h $(GPU_STAMP)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -Itrainer -c $< -o $@

# one stamp per GPU choice; making one removes the other
$(BUILD)/gpu-on.stamp $(BUILD)/gpu-off.stamp:
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/gpu-on.stamp $(BUILD)/gpu-off.stamp
	@touch $@

# protobuf-c output is generated at build time, never committed; it is
# compiled without -Werror since we do not own its style.
$(PROTO_C) $(PROTO_H): proto/pefleet.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --c_out=$(BUILD)/proto -Iproto proto/pefleet.proto
$(BUILD)/proto/pefleet.pb-c.o: $(PROTO_C)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

CLI_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(filter-out cli/cmd_train.c cli/trainer_main.c,$(wildcard cli/*.c)))
CLI_OBJ  += $(patsubst %.c,$(BUILD)/%.o,$(wildcard supervisor/*.c))
$(BIN)/pefleet: $(CLI_OBJ) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

# training (and with it the GPU libraries) lives in a program of its own:
# `pefleet train` runs it, so no other command loads CUDA at start
$(BIN)/pefleet-trainer: $(BUILD)/cli/trainer_main.o $(BUILD)/cli/cmd_train.o \
                        $(filter-out $(BUILD)/cli/pefleet.o,$(CLI_OBJ)) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

# the parser sandbox (sandbox/README.md); two builds for tests and benchmarks
# only, never installed: the hostile parser of tests/integration/sandbox_hostile.sh
# and the unhardened "before" of bench/encode_bench.sh
SANDBOX_H := $(wildcard sandbox/*.h)
$(BUILD)/sandbox/%.o: sandbox/%.c $(GPU_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/sandbox/sb_main_unhardened.o: sandbox/sb_main.c $(GPU_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DPF_SANDBOX_UNHARDENED $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@
# every symbol bound at exec (-z now): each file's process is a fresh fork
# of the zygote and would otherwise resolve LIEF's symbols again
SANDBOX_LDFLAGS := -Wl,-z,now -Wl,-z,relro
$(BIN)/pefleet-sandbox: $(BUILD)/sandbox/sb_main.o $(BUILD)/sandbox/sb_parse.o $(BUILD)/sandbox/sb_handle.o $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $(SANDBOX_LDFLAGS) $^ -o $@ $(LDLIBS)
$(BUILD)/tests/pefleet-sandbox-hostile: $(BUILD)/sandbox/sb_main.o $(BUILD)/sandbox/sb_hostile.o $(BUILD)/sandbox/sb_parse.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANDBOX_LDFLAGS) $^ -o $@ $(LDLIBS)
$(BUILD)/bench/pefleet-sandbox-unhardened: $(BUILD)/sandbox/sb_main_unhardened.o $(BUILD)/sandbox/sb_parse.o $(BUILD)/sandbox/sb_handle.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANDBOX_LDFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/pefleet-broker: $(BROKER_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/pefleet-encoder-worker: $(WORKER_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/pefleet-score-router: $(ROUTER_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/pefleet-scorer: $(SCORER_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

# the HTTP gateway (libmicrohttpd)
$(BUILD)/gateway/%.o: gateway/%.c $(GPU_STAMP) | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BIN)/pefleet-gateway: $(GATEWAY_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS) -lmicrohttpd

# the similarity service
$(BUILD)/similar/%.o: similar/%.c $(GPU_STAMP) | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BIN)/pefleet-similar: $(SIMILAR_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

# clamd's protocol in front of the score pool (clamd/README.md)
$(BUILD)/clamd/%.o: clamd/%.c $(GPU_STAMP) | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BIN)/pefleet-clamd: $(CLAMD_SRC:%.c=$(BUILD)/%.o) $(LIBA)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $< $(LIBA) -o $@ $(LDLIBS) -lcmocka
# a unit test that compiles a cli/ source in (cli/ is not in the library)
$(BUILD)/tests/test_model_info: cli/model_info.c cli/model_info.h
$(BUILD)/tests/test_broker_table: broker/broker_table.c broker/broker.h
$(BUILD)/tests/test_sv_state: supervisor/sv_state.c supervisor/sv_state.h

# the gateway's pure modules (request parsing, auth, metrics, options) with their objects
$(BUILD)/tests/test_clamd_cmd: tests/unit/test_clamd_cmd.c $(wildcard tests/unit/*.h clamd/*.h) $(BUILD)/clamd/cd_cmd.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit -Iclamd $(ALL_CFLAGS) $< $(BUILD)/clamd/cd_cmd.o $(LIBA) -o $@ $(LDLIBS) -lcmocka
GW_UNIT_OBJ := $(BUILD)/gateway/gw_parse.o $(BUILD)/gateway/gw_auth.o $(BUILD)/gateway/gw_metrics.o $(BUILD)/gateway/gw_opts.o
$(BUILD)/tests/test_gateway: tests/unit/test_gateway.c $(wildcard tests/unit/*.h gateway/*.h) $(GW_UNIT_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit -Igateway $(ALL_CFLAGS) $< $(GW_UNIT_OBJ) $(LIBA) -o $@ $(LDLIBS) -lcmocka

# small programs the integration tests drive (e.g. raw ZeroMQ senders)
# the differential test's reference: LIEF 0.9's own C++ API (C++ only here)
$(BUILD)/tools/lief_props: tests/difftool/lief_props.cc
	@mkdir -p $(dir $@)
	$(CXX) -O1 -std=c++14 -Wall -Wextra -Werror $< -o $@ -lLIEF
all: $(BUILD)/tools/lief_props

$(BUILD)/tools/%: tests/tools/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIBA) -o $@ $(LDLIBS)

# Installs only what is missing, so a second run does nothing.
define deps_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "$@: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "$@: run as root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "$@: all present"; fi
endef
deps:
	$(call deps_install,$(DEB_PACKAGES))
deps-build:
	$(call deps_install,$(DEB_BUILD_PACKAGES))
deps-test:
	$(call deps_install,$(DEB_TEST_PACKAGES))

# The README's main command: the whole system end to end on this machine
# (scripts/demo.sh: Debian packages' PE files, fleet, training, HTTP scans).
demo: deps
	$(MAKE) all
	@BIN=$(abspath $(BIN)) scripts/demo.sh

test: deps
	$(MAKE) all
	@BIN=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) tests/run.sh

check: all
	@BIN=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) tests/run.sh

# The same tests on an ASan+UBSan build (the address-space limit is off there:
# ASan reserves more address space than any sane limit).
# the GPU trainer's first run wherever a GPU appears (scripts/gpu_check.sh):
# CUDA build, GPU-vs-CPU parity, CPU and GPU training side by side; says
# "skipped: no GPU" elsewhere
gpu-check:
	@scripts/gpu_check.sh

sanitize:
	$(MAKE) all BUILD=build/san BIN=build/san/bin CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" EXTRA_CPPFLAGS="-DPF_SANITIZE"
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 PEFLEET_SANITIZE=1 \
	  BIN=$(abspath build/san/bin) BUILD=$(abspath build/san) tests/run.sh

# libFuzzer targets for the parsing code outside LIEF (tests/fuzz/README.md):
# fuzz_pe (header reader, LIEF-0.9 address and property rules, ergo486),
# fuzz_wire (pipe frames), fuzz_msg (protobuf envelopes: pf_msg_decode),
# fuzz_csvrow (dataset.csv rows: pf_csvrow_parse) and fuzz_folder (the
# model folder's files: pf_folder_parse_*).
# `make fuzz` builds them all with clang, ASan and UBSan;
# `make fuzz-run FUZZ_SECONDS=N` seeds the corpora (PE files copied from
# ../shared/corpus at run time) and fuzzes each for N seconds (-j3: side by
# side; FUZZ_WIRE_SECONDS / FUZZ_MSG_SECONDS / FUZZ_CSVROW_SECONDS for one
# of those alone;
# FUZZ_JOBS=2: fuzz_pe in two worker processes). Crashing inputs are written
# to $(BUILD)/fuzz/{pe,wire,msg,csvrow}-*.
FUZZ_CC           ?= clang
FUZZ_SECONDS      ?= 60
FUZZ_WIRE_SECONDS ?= $(FUZZ_SECONDS)
FUZZ_MSG_SECONDS  ?= $(FUZZ_SECONDS)
FUZZ_CSVROW_SECONDS ?= $(FUZZ_SECONDS)
FUZZ_DIR          := $(BUILD)/fuzz
FUZZ_FLAGS        := -O1 -g -fno-omit-frame-pointer \
                     -fsanitize=fuzzer,address,undefined,float-divide-by-zero -fno-sanitize-recover=all
FUZZ_PE_LIB       := lib/pe/pf_pe.c lib/pe/pf_ergo486.c lib/base/pf_err.c
FUZZ_WIRE_LIB     := lib/pe/pf_wire.c
FUZZ_MSG_LIB      := lib/net/pf_msg.c
FUZZ_CSVROW_LIB   := lib/base/pf_csvrow.c
FUZZ_GWPARSE_LIB  := gateway/gw_parse.c
FUZZ_CURVEKEY_LIB := lib/net/pf_curve.c lib/base/pf_clock.c lib/base/pf_log.c lib/base/pf_err.c lib/base/pf_secret.c lib/base/pf_io.c lib/base/pf_atomic.c
FUZZ_CURVEKEY_SECONDS ?= $(FUZZ_SECONDS)
FUZZ_BLOBS_LIB    := lib/model/pf_model.c lib/base/pf_atomic.c lib/store/pf_vecblob.c lib/base/pf_io.c lib/base/pf_err.c lib/pe/pf_ergo486.c lib/pe/pf_pe.c
FUZZ_BLOBS_SECONDS ?= $(FUZZ_SECONDS)
FUZZ_FOLDER_LIB   := lib/eval/pf_folder_read.c lib/eval/pf_folder_side.c lib/eval/pf_folder_json.c \
                     lib/eval/pf_folder_split.c lib/eval/pf_folder_time.c lib/base/pf_date.c lib/base/pf_err.c
FUZZ_FOLDER_SECONDS ?= $(FUZZ_SECONDS)
FUZZ_GWPARSE_SECONDS ?= $(FUZZ_SECONDS)
FUZZ_JOBS         ?= 1
FUZZ_RUN_OPTS     := -timeout=10 -print_final_stats=1
.PHONY: fuzz-run-pe fuzz-run-wire fuzz-run-msg fuzz-run-csvrow fuzz-run-gwparse fuzz-run-curvekey fuzz-run-blobs \
        fuzz-run-folder
fuzz: $(FUZZ_DIR)/fuzz_pe $(FUZZ_DIR)/fuzz_wire $(FUZZ_DIR)/fuzz_msg $(FUZZ_DIR)/fuzz_csvrow $(FUZZ_DIR)/fuzz_gwparse \
      $(FUZZ_DIR)/fuzz_curvekey $(FUZZ_DIR)/fuzz_blobs $(FUZZ_DIR)/fuzz_clamdcmd $(FUZZ_DIR)/fuzz_folder
FUZZ_BUILD = @command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (make deps installs clang)" >&2; exit 1; }; \
             mkdir -p $(dir $@)
$(FUZZ_DIR)/fuzz_pe: tests/fuzz/fuzz_pe.c $(FUZZ_PE_LIB) $(wildcard lib/*/*.h)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) $< $(FUZZ_PE_LIB) -o $@ -lm
$(FUZZ_DIR)/fuzz_wire: tests/fuzz/fuzz_wire.c $(FUZZ_WIRE_LIB) $(wildcard lib/*/*.h)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) $< $(FUZZ_WIRE_LIB) -o $@
# the generated protobuf-c code is instrumented too, but built without $(WARN)
$(FUZZ_DIR)/pefleet.pb-c.o: $(PROTO_C) $(PROTO_H)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -c $< -o $@
$(FUZZ_DIR)/fuzz_msg: tests/fuzz/fuzz_msg.c $(FUZZ_MSG_LIB) $(FUZZ_DIR)/pefleet.pb-c.o $(wildcard lib/*/*.h) $(PROTO_H)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) $< $(FUZZ_MSG_LIB) $(FUZZ_DIR)/pefleet.pb-c.o -o $@ -lprotobuf-c
$(FUZZ_DIR)/fuzz_csvrow: tests/fuzz/fuzz_csvrow.c $(FUZZ_CSVROW_LIB) $(wildcard lib/*/*.h)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) $< $(FUZZ_CSVROW_LIB) -o $@ -lm
# the gateway's request parsing (JSON bodies, vectors, capped fields): gateway/gw_parse.c
$(FUZZ_DIR)/fuzz_gwparse: tests/fuzz/fuzz_gwparse.c $(FUZZ_GWPARSE_LIB) gateway/gw_parse.h $(wildcard lib/*/*.h)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) -Igateway $(FUZZ_FLAGS) $(WARN) $< $(FUZZ_GWPARSE_LIB) -o $@ -lm
fuzz-run-gwparse: $(FUZZ_DIR)/fuzz_gwparse
	@mkdir -p $(FUZZ_DIR)/corpus-gwparse
	tests/fuzz/seed_gwparse.sh $(FUZZ_DIR)/corpus-gwparse
	$(FUZZ_DIR)/fuzz_gwparse -max_total_time=$(FUZZ_GWPARSE_SECONDS) -max_len=16384 -dict=tests/fuzz/gwparse.dict \
	  $(FUZZ_RUN_OPTS) -artifact_prefix=$(FUZZ_DIR)/gwparse- $(FUZZ_DIR)/corpus-gwparse
# pefleet-clamd's command grammar: clamd/cd_cmd.c
$(FUZZ_DIR)/fuzz_clamdcmd: tests/fuzz/fuzz_clamdcmd.c clamd/cd_cmd.c clamd/cd_cmd.h
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) -Iclamd $(FUZZ_FLAGS) $(WARN) $< clamd/cd_cmd.c -o $@
# the CURVE key files (key pair and .pub parsers): lib/net/pf_curve.c
$(FUZZ_DIR)/fuzz_curvekey: tests/fuzz/fuzz_curvekey.c $(FUZZ_CURVEKEY_LIB) $(wildcard lib/*/*.h)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) $< $(FUZZ_CURVEKEY_LIB) -o $@ -lzmq -lpthread
fuzz-run-curvekey: $(FUZZ_DIR)/fuzz_curvekey
	@mkdir -p $(FUZZ_DIR)/corpus-curvekey
	bin/pefleet keygen fuzzseed -o $(FUZZ_DIR)/corpus-curvekey --force >/dev/null 2>&1 || true
	$(FUZZ_DIR)/fuzz_curvekey -max_total_time=$(FUZZ_CURVEKEY_SECONDS) -max_len=8192 $(FUZZ_RUN_OPTS) \
	  -artifact_prefix=$(FUZZ_DIR)/curvekey- $(FUZZ_DIR)/corpus-curvekey tests/fuzz/regressions-curvekey
# model files and stored vectors (pf_model_decode, pf_vecblob_decode)
$(FUZZ_DIR)/fuzz_blobs: tests/fuzz/fuzz_blobs.c $(FUZZ_BLOBS_LIB) $(wildcard lib/*/*.h)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) $< $(FUZZ_BLOBS_LIB) -o $@ $(shell pkg-config --libs openblas 2>/dev/null) -lm
fuzz-run-blobs: $(FUZZ_DIR)/fuzz_blobs $(BUILD)/tools/mkblobseeds
	@mkdir -p $(FUZZ_DIR)/corpus-blobs
	$(BUILD)/tools/mkblobseeds $(FUZZ_DIR)/corpus-blobs
	$(FUZZ_DIR)/fuzz_blobs -max_total_time=$(FUZZ_BLOBS_SECONDS) -max_len=200000 $(FUZZ_RUN_OPTS) \
	  -artifact_prefix=$(FUZZ_DIR)/blobs- $(FUZZ_DIR)/corpus-blobs
# the model folder's files (pf_folder_parse_*: model.json, stats.json, history.json, roc.json, pca.json,
# dataset.json, relevance.json, over_time.json)
$(FUZZ_DIR)/fuzz_folder: tests/fuzz/fuzz_folder.c $(FUZZ_FOLDER_LIB) $(wildcard lib/*/*.h)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) $< $(FUZZ_FOLDER_LIB) -o $@ -lcjson -lm
fuzz-run-folder: $(FUZZ_DIR)/fuzz_folder
	@mkdir -p $(FUZZ_DIR)/corpus-folder
	tests/fuzz/seed_corpus.sh --folder $(FUZZ_DIR)/corpus-folder
	$(FUZZ_DIR)/fuzz_folder -max_total_time=$(FUZZ_FOLDER_SECONDS) -max_len=65536 -dict=tests/fuzz/folder.dict \
	  $(FUZZ_RUN_OPTS) -artifact_prefix=$(FUZZ_DIR)/folder- $(FUZZ_DIR)/corpus-folder tests/fuzz/regressions-folder
fuzz-run: fuzz-run-pe fuzz-run-wire fuzz-run-msg fuzz-run-csvrow fuzz-run-gwparse fuzz-run-curvekey fuzz-run-blobs \
          fuzz-run-folder
# Keras model_config JSON (pf_keras_config_parse, cJSON): lib/model/pf_keras_config.c
FUZZ_KERASCFG_LIB := lib/model/pf_keras_config.c
FUZZ_KERASCFG_SECONDS ?= $(FUZZ_SECONDS)
fuzz: $(FUZZ_DIR)/fuzz_kerascfg
$(FUZZ_DIR)/fuzz_kerascfg: tests/fuzz/fuzz_kerascfg.c $(FUZZ_KERASCFG_LIB) $(wildcard lib/*/*.h)
	$(FUZZ_BUILD)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) $< $(FUZZ_KERASCFG_LIB) -o $@ -lcjson
.PHONY: fuzz-run-kerascfg
fuzz-run-kerascfg: $(FUZZ_DIR)/fuzz_kerascfg
	@mkdir -p $(FUZZ_DIR)/corpus-kerascfg
	tests/fuzz/seed_kerascfg.sh $(FUZZ_DIR)/corpus-kerascfg
	$(FUZZ_DIR)/fuzz_kerascfg -max_total_time=$(FUZZ_KERASCFG_SECONDS) -max_len=65536 $(FUZZ_RUN_OPTS) \
	  -artifact_prefix=$(FUZZ_DIR)/kerascfg- $(FUZZ_DIR)/corpus-kerascfg
fuzz-run: fuzz-run-kerascfg
fuzz-run-pe: $(FUZZ_DIR)/fuzz_pe
	@mkdir -p $(FUZZ_DIR)/corpus-pe
	tests/fuzz/seed_corpus.sh $(FUZZ_DIR)/corpus-pe
	$(FUZZ_DIR)/fuzz_pe -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -dict=tests/fuzz/pe.dict $(FUZZ_RUN_OPTS) \
	  $(if $(filter-out 0 1,$(FUZZ_JOBS)),-fork=$(FUZZ_JOBS)) \
	  -artifact_prefix=$(FUZZ_DIR)/pe- $(FUZZ_DIR)/corpus-pe $(wildcard tests/fuzz/regressions)
fuzz-run-wire: $(FUZZ_DIR)/fuzz_wire
	@mkdir -p $(FUZZ_DIR)/corpus-wire
	tests/fuzz/seed_corpus.sh --wire $(FUZZ_DIR)/corpus-wire
	$(FUZZ_DIR)/fuzz_wire -max_total_time=$(FUZZ_WIRE_SECONDS) -max_len=16384 -dict=tests/fuzz/wire.dict $(FUZZ_RUN_OPTS) \
	  -artifact_prefix=$(FUZZ_DIR)/wire- $(FUZZ_DIR)/corpus-wire
fuzz-run-msg: $(FUZZ_DIR)/fuzz_msg
	@mkdir -p $(FUZZ_DIR)/corpus-msg
	tests/fuzz/seed_corpus.sh --msg $(FUZZ_DIR)/corpus-msg
	$(FUZZ_DIR)/fuzz_msg -max_total_time=$(FUZZ_MSG_SECONDS) -max_len=8192 $(FUZZ_RUN_OPTS) \
	  -artifact_prefix=$(FUZZ_DIR)/msg- $(FUZZ_DIR)/corpus-msg
fuzz-run-csvrow: $(FUZZ_DIR)/fuzz_csvrow
	@mkdir -p $(FUZZ_DIR)/corpus-csvrow
	tests/fuzz/seed_corpus.sh --csvrow $(FUZZ_DIR)/corpus-csvrow
	$(FUZZ_DIR)/fuzz_csvrow -max_total_time=$(FUZZ_CSVROW_SECONDS) -max_len=16384 -dict=tests/fuzz/csvrow.dict \
	  $(FUZZ_RUN_OPTS) -artifact_prefix=$(FUZZ_DIR)/csvrow- $(FUZZ_DIR)/corpus-csvrow

# Files/s and MB/s of `pefleet encode -w 1` and `-w $(nproc)` beside LIEF
# parsing the same files in one process (bench/README.md).
BASELINE := $(BUILD)/bench/lief_baseline
$(BASELINE): bench/lief_baseline.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIBA) -o $@ $(LDLIBS)

# Builds only what it runs, so a fleet program that does not build does not stop it.
bench: $(BIN)/pefleet $(BIN)/pefleet-sandbox $(BASELINE) $(BUILD)/bench/pefleet-sandbox-unhardened
	@BIN=$(abspath $(BIN)) BASELINE=$(abspath $(BASELINE)) bench/encode_bench.sh

# Validates compose.yaml with Debian's docker-compose (v1.29, Compose
# specification; the Redis password is a secret file, not read by `config`).
.PHONY: compose-check
compose-check:
	@command -v docker-compose >/dev/null || { echo "compose-check: docker-compose not installed (make deps)" >&2; exit 1; }
	docker-compose -f compose.yaml --profile train --profile train-gpu --profile tools config -q
	@echo "compose-check: compose.yaml is valid"

# The fleet in a real container engine (tests/compose/compose_test.sh): its
# own dockerd unless one is reachable (images and build cache kept in
# /var/cache/pefleet-compose-test for the next run), the debian:12 base made
# with debootstrap, the image built, the stack up, ingest, scans, kills,
# --scale, down -v. Root, or a reachable engine.
.PHONY: compose-test compose-up
compose-test: deps-build
	$(call deps_install,docker.io debootstrap docker-compose curl python3)
	@$(MAKE) --no-print-directory programs
	@BIN=$(abspath $(BIN)) PEFLEET_ROOT=$(abspath .) bash -o pipefail -c 'bash tests/compose/compose_test.sh 2>&1 | tee $(BUILD)/compose-test.out'; \
	  rc=$$?; \
	  p=$$(grep -c '^ok - ' $(BUILD)/compose-test.out); f=$$(grep -c '^not ok - ' $(BUILD)/compose-test.out); \
	  s=$$(grep -c '^skipped: ' $(BUILD)/compose-test.out); echo "compose-test: $$p passed, $$f failed, $$s skipped"; \
	  [ $$rc -eq 0 ] && [ $$f -eq 0 ]

# For users: secrets/redis_password and .env made once (scripts/compose_env.sh),
# then the stack started (Docker's `docker compose`, else docker-compose).
compose-up:
	@scripts/compose_env.sh .
	@if docker compose version >/dev/null 2>&1; then docker compose up -d; else docker-compose up -d; fi

# Similarity queries over 200,000 and 1,000,000 vectors: lib/pf_simindex
# beside a numpy brute force, same data and queries (bench/README.md).
SIMBENCH := $(BUILD)/bench/similar_bench
$(SIMBENCH): bench/similar_bench.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< $(LIBA) -o $@ $(LDLIBS)
.PHONY: bench-similar
bench-similar: $(SIMBENCH)
	@SIMBENCH=$(abspath $(SIMBENCH)) bench/similar_bench.sh

clean:
	rm -rf build bin

# The trainer's element-wise loops (Adam, bias, ReLU) vectorise at -O3 only;
# vector sqrt and division are exact, so results stay bit-identical.
$(BUILD)/lib/model/pf_train.o: CFLAGS += -O3
# The similarity index's int8 scan vectorises at -O3 only (integer dot
# products: exact whatever the instruction set).
$(BUILD)/lib/model/pf_simindex.o: CFLAGS += -O3
# The explanations' dense loops (the first layer's affine map, the per-piece
# layers) vectorise at -O3 only
$(BUILD)/lib/eval/pf_explain.o: CFLAGS += -O3

# the headers each object included when it was last built (see DEPFLAGS)
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
