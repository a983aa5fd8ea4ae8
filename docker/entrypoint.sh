#!/usr/bin/env bash
# Container start: build the TensorRT engines whose manifests do not match this GPU / TensorRT
# (`make engines`, a no-op when they match), then run the pipeline on DeepStream.
#   docker run ... edgewatch:jetson                       # configs/demo.txt, no display
#   docker run ... edgewatch:jetson -c /data/cams.txt     # your own config (mount it)
set -euo pipefail
cd /opt/edgewatch
if grep -q '^engines:' Makefile; then
  make --no-print-directory engines NO_SETUP=1 BIN="$(dirname "$(command -v python3)")"
else
  echo "edgewatch: no 'make engines' in this build: nvinfer builds and caches the detector engine itself" >&2
fi
if [ "$#" -eq 0 ]; then
  set -- -c configs/demo.txt --no-display
fi
exec edgewatch run --backend deepstream "$@"
