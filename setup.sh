#!/usr/bin/env bash
# ESPER Studio set-up for Debian 12 / Ubuntu. Both commands install what is missing, build
# incrementally, and are fast when nothing changed.
#   ./setup.sh run    build and start ESPER Studio
#   ./setup.sh test   build and run every test
set -euo pipefail
cd "$(dirname "$0")"

# libopenblas0-pthread: without it libtorch falls back to the reference BLAS, 5x slower.
PACKAGES=(
  g++ cmake ninja-build ccache lld pkg-config
  libtorch-dev libgloo-dev libopenblas0-pthread libsentencepiece-dev libutf8proc-dev nlohmann-json3-dev zlib1g-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libssl-dev
  qt6-base-dev qt6-multimedia-dev qt6-charts-dev libqt6opengl6-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good sox libsox-fmt-mp3
  xvfb xauth dpkg-dev desktop-file-utils appstream
)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

build() {
  if [ ! -f build/build.ninja ]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build build
}

cmd="${1:-}"
shift || true
case "$cmd" in
  run)
    install_missing
    build
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      echo "setup: built, but there is no display to open ESPER Studio on (DISPLAY and" >&2
      echo "WAYLAND_DISPLAY are unset). Run build/app/studio/esper-studio from a desktop" >&2
      echo "session, or use the command line: build/app/cli/esper --help" >&2
      exit 1
    fi
    exec build/app/studio/esper-studio "$@"
    ;;
  test)
    install_missing
    build
    cd build
    exec ctest --output-on-failure --timeout 900 -j2
    ;;
  *)
    echo "usage: ./setup.sh run | ./setup.sh test" >&2
    exit 2
    ;;
esac
