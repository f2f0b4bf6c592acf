# bandmate: a live AI bandmate for JACK.
#   make            build build/bandmate
#   make deps       install (as root) or name the Debian packages bandmate needs
#   make test       the whole suite, plain and under AddressSanitizer+UBSan
#   make bench      benchmarks (prints tables; not a pass/fail test)
#   make demo       render the example performances offline and print where the files are
#   make fuzz       libFuzzer builds of the fuzz targets (clang)
#   make corpus     the default training corpus in corpus/ (CORPUS_SONGS=N, CORPUS_SEED=S)
#   make model      retrain the shipped musician models/musician.bmnn from corpus/ (MODEL_STEPS=N)
#   make voices-data  render and analyse the voice data set into voicedata/ (docs/voices-data.md)
#   make voices     the voice data set, then train the timbre decoder and place the shipped voices
#                   into voices/ (docs/voices.md)

BUILD ?= build
SAN   ?= 0
CC    ?= gcc

PKGS      = jack liblo lua5.4 sndfile aubio fftw3f cairo openblas
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lportmidi -lporttime

WARN    = -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wvla $(if $(findstring clang,$(CC)),-Wno-unknown-warning-option) -Wno-format-truncation
CFLAGS_COMMON = -std=c11 -D_GNU_SOURCE -g -fno-omit-frame-pointer -pthread -MMD -MP -I. $(WARN) $(PKG_CFLAGS)
ifeq ($(SAN),1)
  OPT      = -O1
  SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -DBM_SANITIZED=1
else
  OPT      = -O2
  SANFLAGS =
endif
override CFLAGS := $(CFLAGS_COMMON) $(OPT) $(SANFLAGS) $(CFLAGS)
LDLIBS  = $(PKG_LIBS) -lm -ldl -lpthread
LDFLAGS += $(SANFLAGS) -pthread -rdynamic

# Every .c below these folders is part of the build; files ending in _avx2.c are compiled for
# AVX2+FMA and must only be called after a run-time CPU check.
LIB_SRCS  = $(sort $(wildcard nn/*.c) $(filter-out engine/main.c,$(wildcard engine/*.c engine/*/*.c)))
TEST_SRCS = $(sort $(wildcard tests/*.c))
FUZZ_SRCS = $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJS  = $(LIB_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS = $(TEST_SRCS:%.c=$(BUILD)/%.o)
LIB       = $(BUILD)/libbandmate.a
BIN       = $(BUILD)/bandmate
TESTBIN   = $(BUILD)/tests/bm_tests
FUZZBINS  = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all deps test test-build bench demo fuzz clean corpus model voices voices-data
.DEFAULT_GOAL := all

all: $(BIN)

deps:
	@tools/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -mavx2 -mfma -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/engine/main.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(TESTBIN): $(TEST_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -Wl,--whole-archive $(TEST_OBJS) -Wl,--no-whole-archive $(LIB) $(LDLIBS) -o $@

# Fuzz targets built with a plain driver (tests/fuzz/driver.c): the suite replays their seeds and
# deterministic mutations; `make fuzz` builds the same targets for libFuzzer.
$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/driver.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

test-build: $(BIN) $(TESTBIN) $(FUZZBINS)

test: deps
	@tools/run_tests.sh

bench: deps
	@tools/deps.sh --bench || echo "bench: reference columns that need python3-torch will be skipped"
	$(MAKE) $(BIN)
	$(BIN) bench all

demo: deps
	$(MAKE) $(BIN)
	@tools/demo.sh $(BIN)

fuzz:
	@tools/deps.sh --fuzz
	$(MAKE) BUILD=build/libfuzzer CC=clang SAN=0 \
	  CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" build/libfuzzer/libbandmate.a
	@mkdir -p build/libfuzzer/fuzz
	for f in $(FUZZ_SRCS); do \
	  n=$$(basename $$f .c); \
	  clang -std=c11 -D_GNU_SOURCE -g -O1 -I. $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    $$f build/libfuzzer/libbandmate.a $(LDLIBS) -o build/libfuzzer/fuzz/$$n || exit 1; \
	done
	@echo "libFuzzer targets are in build/libfuzzer/fuzz/; run one on a copy of its seeds, e.g. cp -r tests/fuzz/corpus/smf /tmp/smf && build/libfuzzer/fuzz/fuzz_smf /tmp/smf"

# The default training corpus, built from Debian's mma package (docs/corpus.md).
CORPUS_SONGS ?= 5000
CORPUS_SEED  ?= 1
corpus: deps
	@tools/corpus/build.sh corpus $(CORPUS_SONGS) $(CORPUS_SEED)

# The shipped musician (docs/musician.md): trained on corpus/ (built first when missing), with its
# log, loss table and loss-curve picture beside it. About 30 to 60 minutes on two shared cores.
MODEL_STEPS ?= 16000
model: deps
	@test -f corpus/MANIFEST.tsv || $(MAKE) corpus
	$(MAKE) $(BIN)
	@mkdir -p models
	@echo "time $(BIN) train --corpus corpus --out models/musician.bmnn --steps $(MODEL_STEPS) --threads 2 --seed 1 --log models/musician-train.tsv --plot models/musician-loss.png" > models/musician-train.log
	@start=$$(date +%s); \
	  { $(BIN) train --corpus corpus --out models/musician.bmnn --steps $(MODEL_STEPS) --threads 2 --seed 1 \
	    --log models/musician-train.tsv --plot models/musician-loss.png; echo $$? > models/.train-rc; } 2>&1 \
	    | tee -a models/musician-train.log; \
	  end=$$(date +%s); \
	  echo "wall time: $$((end - start)) s on $$(nproc) cores; load average at the end: $$(cut -d' ' -f1-3 /proc/loadavg)" \
	    | tee -a models/musician-train.log; \
	  rc=$$(cat models/.train-rc); rm -f models/.train-rc; test "$$rc" = 0
	@rm -f models/musician.bmnn.ckpt

voices-data: deps
	$(MAKE) $(BIN)
	@tools/voices/build.sh $(BIN) voicedata

voices: voices-data
	@tools/voices/train.sh $(BIN) voicedata voices

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(BUILD)/engine/main.d
