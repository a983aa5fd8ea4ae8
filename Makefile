# edgewatch: every target installs what it needs first (idempotent), so a fresh machine needs only
# `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CACHE ?= $(or $(EDGEWATCH_CACHE),$(HOME)/.cache/edgewatch)
export EDGEWATCH_CACHE := $(CACHE)
export YOLO_OFFLINE := 1
export YOLO_AUTOINSTALL := False
export YOLO_CONFIG_DIR := $(CACHE)/ultralytics
export MPLCONFIGDIR := $(CACHE)/matplotlib
ULTRALYTICS := ultralytics==8.4.190
# metadata only: ultralytics reads torchvision's version at import; see pyproject.toml
TORCHVISION_META := torchvision==0.28.0
# HOTA / CLEAR-MOT / IDF1 for the tracker benchmark; --no-deps: it asks for opencv-python (see pyproject.toml)
TRACKEVAL := trackeval==1.3.0

.PHONY: setup system-deps stubs demo test test-fast gpu-smoke bench bench-readme samples sample-model behaviour-model engines clean

setup: $(VENV)/.installed

system-deps:
	@bash scripts/install-system-deps.sh

$(VENV)/.installed: pyproject.toml scripts/install-system-deps.sh scripts/link-gst-overrides.sh
	@bash scripts/install-system-deps.sh
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[export,dev,nvidia]'
	$(BIN)/pip install -q --no-deps $(ULTRALYTICS) $(TORCHVISION_META) $(TRACKEVAL)
	@bash scripts/link-gst-overrides.sh $(VENV)
	@touch $@

samples: setup
	$(BIN)/edgewatch samples

demo: setup samples
	$(BIN)/edgewatch run -c configs/demo.txt --output out/demo.mp4 --events out/demo_events.jsonl --no-display

# static DeepStream checks: pyds-stubs per DeepStream version (tests/test_deepstream_static.py)
STUBS := $(CACHE)/deepstream-stubs
stubs: setup
	@bash scripts/install-deepstream-stubs.sh $(VENV) $(STUBS)

# the tests also use the SSD teacher (67 MB), which the demo does not need
test: setup stubs
	$(BIN)/edgewatch samples --teacher
	$(BIN)/python -m pytest -q

# the inner loop: everything but the end-to-end graph runs and model training (marker `slow`)
test-fast: setup stubs
	$(BIN)/python -m pytest -q -m "not slow"

# The benchmark report (report.json, report.md, PNGs) into $(BENCH_OUT); `make bench QUICK=1` for the
# 10-minute version. The README's tables come from the committed docs/bench report: `make bench-readme`.
BENCH_OUT ?= out/bench
bench: setup samples
	$(BIN)/edgewatch samples --teacher
	$(BIN)/edgewatch bench -c configs/demo.txt --out $(BENCH_OUT) $(if $(QUICK),--quick)

bench-readme: setup
	$(BIN)/python -m edgewatch.bench.readme --report docs/bench/report.json

sample-model: setup samples
	$(BIN)/edgewatch sample-model

# The default temporal model (models/behaviour/) and its rule baseline, trained on 96000 simulated tracks
# and scored on the 16000 held-out ones of the README (about 17 min on one core of the shared dev box:
# 2.5 min simulating, 32 epochs of 20-25 s), then the Q/DQ file placed for TensorRT by ModelOpt.
behaviour-model: setup
	$(BIN)/edgewatch train temporal --data sim:96000 --test-data sim:16000 --epochs 32 --patience 10 --d-model 80 --ff 160 \
		--model transformer --out models/behaviour --precisions fp32,fp16,int8
	$(BIN)/edgewatch export temporal --checkpoint models/behaviour/behaviour.pt --precision int8 --tensorrt-int8 \
		--out models/behaviour

# TensorRT engines for a config (CONFIG=..., default the demo's), built on the Jetson / dGPU host that runs
# them: skipped when unchanged, refused when built for another GPU or TensorRT. Without TensorRT: one line, exit 2.
# NO_SETUP=1 BIN=... inside the DeepStream container (no .venv there).
CONFIG ?= configs/demo.txt
engines: $(if $(NO_SETUP),,setup)
	$(BIN)/edgewatch engines -c $(CONFIG)

# On NVIDIA hardware, inside the DeepStream container (no .venv there):
#   docker run --rm --runtime nvidia --entrypoint make edgewatch:jetson gpu-smoke
# versions found, engines built, TensorRT vs ONNX Runtime, 30 s of the DeepStream graph; out/gpu_smoke/report.json
gpu-smoke:
	python3 -m edgewatch.pipeline.deepstream.smoke --seconds 30 --out out/gpu_smoke

clean:
	rm -rf out build
