#!/usr/bin/env bash
# Container start: build the TensorRT engines of the config the run uses whose manifests do not match
# this GPU / TensorRT (`make engines`, a no-op when they match), then run the pipeline on DeepStream.
#   docker run ... edgewatch:jetson                       # configs/demo.txt, no display
#   docker run ... edgewatch:jetson -c /data/cams.txt     # your own config (mount it)
set -euo pipefail
cd "${EDGEWATCH_HOME:-/opt/edgewatch}"
if [ "$#" -eq 0 ]; then
  set -- -c configs/demo.txt --no-display
fi
config=configs/demo.txt
previous=""
for arg in "$@"; do
  case "$previous" in -c|--config) config="$arg" ;; esac
  case "$arg" in --config=*) config="${arg#--config=}" ;; esac
  previous="$arg"
done
make --no-print-directory engines NO_SETUP=1 BIN="$(dirname "$(command -v python3)")" CONFIG="$config"
exec edgewatch run --backend deepstream "$@"
