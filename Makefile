# Everything starts from a fresh clone: each target creates .venv when missing
# and installs the project (and its native helper) into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
ISS    := $(VENV)/bin/iss
BUILD  := build
STAMP  := $(VENV)/.installed
JOBS   ?= 2

APPS       := $(wildcard firmware/apps/*.c)
APP_ELFS   := $(patsubst firmware/apps/%.c,$(BUILD)/apps/%.elf,$(APPS))
TEST_SRCS  := $(wildcard tests/firmware_src/*.c)
TEST_ELFS  := $(patsubst tests/firmware_src/%.c,$(BUILD)/tests/%.elf,$(TEST_SRCS))
RUNTIME    := $(wildcard firmware/runtime/*.c firmware/runtime/*.S firmware/runtime/*.ld firmware/runtime/include/*.h)
KERNELS    := $(wildcard firmware/kernels/*.c firmware/kernels/*.h)

.PHONY: all demo test test-slow firmware bench clean distclean venv

all: firmware

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m iss.native
	touch $@

venv: $(STAMP)

# Apps take the kernels they use from firmware/kernels (by #include); a test
# program X.c takes its X.S along when there is one.
$(BUILD)/apps/%.elf: firmware/apps/%.c $(wildcard firmware/apps/*.h) $(RUNTIME) $(KERNELS) $(STAMP)
	$(ISS) cc $< -I firmware/kernels -o $@ -O3

$(BUILD)/tests/%.elf: tests/firmware_src/%.c $(wildcard tests/firmware_src/*.S) $(RUNTIME) $(KERNELS) $(STAMP)
	$(ISS) cc $< $(wildcard tests/firmware_src/$*.S) -I firmware/kernels -o $@ -O2

firmware: $(APP_ELFS) $(TEST_ELFS)

demo: firmware
	$(ISS) run $(BUILD)/apps/hello.elf --stats
	$(ISS) run $(BUILD)/apps/parallel_sum.elf --stats
	$(ISS) bench bottleneck --perfetto $(BUILD)/bottleneck_hetero.perfetto.json --plot $(BUILD)/bottleneck_hetero.png
	$(ISS) bench mobilenetv2 --no-baseline --plot $(BUILD)/mobilenetv2_layers.png

test: $(STAMP)
	$(PY) -m pytest -q -n $(JOBS)

test-slow: $(STAMP)
	$(PY) -m pytest -q -n $(JOBS) -m slow

# Every figure also lands in build/bench.json; compare two runs with
# `python bench/compare.py before.json build/bench.json`.
bench: $(STAMP) firmware
	@mkdir -p $(BUILD) && rm -f $(BUILD)/bench.json
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
	@echo "figures: $(BUILD)/bench.json"

clean:
	rm -rf $(BUILD) .pytest_cache

distclean: clean
	rm -rf $(VENV)
