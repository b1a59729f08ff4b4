#!/usr/bin/env bash
# Makes sure the system tools the build needs are present. As root it installs what is missing from
# Debian's packages; otherwise it stops and prints the exact command to run.
# Usage: tools/ensure-deps.sh [extra-debian-package...]
set -euo pipefail

need=()
command -v verilator >/dev/null 2>&1 || need+=(verilator)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
for pkg in "$@"; do
  case "$pkg" in
    gtkwave) command -v gtkwave >/dev/null 2>&1 || need+=(gtkwave) ;;
    tshark) command -v tshark >/dev/null 2>&1 || need+=(tshark) ;;
    xvfb) command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb xauth) ;;
    *) dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg") ;;
  esac
done

[ ${#need[@]} -eq 0 ] && exit 0

cmd="apt-get install -y ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "ensure-deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # tshark asks whether non-root users may capture; answer it up front.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  $cmd -q >/dev/null
else
  echo "ensure-deps: missing ${need[*]}. Run as root:" >&2
  echo "  sudo $cmd" >&2
  exit 1
fi
