#!/usr/bin/env bash
# PyGObject from PyPI lacks GStreamer's Python overrides (Gst.Fraction, buffer mapping helpers...);
# Debian's python3-gst-1.0 ships them for the system Python. Link them into the venv's gi/overrides.
set -euo pipefail
venv=${1:-.venv}
dst=$("$venv/bin/python" -c 'import gi, os; print(os.path.join(os.path.dirname(gi.__file__), "overrides"))')
for f in /usr/lib/python3/dist-packages/gi/overrides/Gst*.py /usr/lib/python3/dist-packages/gi/overrides/_gi_gst*.so; do
  [ -e "$f" ] && ln -sf "$f" "$dst/"
done
