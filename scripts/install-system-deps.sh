#!/usr/bin/env bash
# Debian packages the CPU pipeline needs: GStreamer 1.22 with the plugins edgewatch uses (decode,
# x264 encode, mp4 mux, RTSP client and server) and the introspection data PyGObject loads; g++ for the
# test that compiles the DeepStream bbox parser against its stand-in header.
# As root it installs them; otherwise it prints the one command to run.
set -euo pipefail
PKGS=(gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-rtsp-server-1.0
      gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
      gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-rtsp
      libgirepository1.0-dev libcairo2-dev pkg-config python3-gst-1.0 g++)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "edgewatch: missing Debian packages; run as root:  sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
sh -c "$cmd" >/dev/null
