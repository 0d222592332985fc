#!/usr/bin/env bash
# The Debian package as a user gets it: made with cpack, unpacked into a temporary root, and its
# layout and desktop integration checked with the freedesktop validators.
#   check_package.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack failed"; }
deb=$(ls "$tmp"/deb/*.deb)
dpkg-deb -x "$deb" "$tmp/root"
usr=$tmp/root/usr
app=io.github.esperstudio.studio

for f in bin/esper bin/esper-studio lib/esper/libesper_spm.so \
         share/applications/$app.desktop share/metainfo/$app.metainfo.xml \
         share/mime/packages/esper-studio.xml share/icons/hicolor/scalable/apps/esper-studio.svg \
         share/man/man1/esper.1.gz share/man/man1/esper-studio.1.gz \
         share/esper-studio/models/demo/esper.json; do
  [ -f "$usr/$f" ] || fail "missing /usr/$f"
done
for size in 16 24 32 48 64 128 256 512; do
  png=$usr/share/icons/hicolor/${size}x${size}/apps/esper-studio.png
  [ -f "$png" ] || fail "missing the ${size}px icon"
  # The PNG's own header must say the size its folder claims.
  read -r w h < <(od -An -j16 -N8 -tu1 "$png" | awk '{print $3*256+$4, $7*256+$8}')
  [ "$w" = "$size" ] && [ "$h" = "$size" ] || fail "the ${size}px icon is ${w}x${h}"
done

desktop-file-validate "$usr/share/applications/$app.desktop" || fail "the .desktop entry is not valid"
appstreamcli validate --no-net --pedantic "$usr/share/metainfo/$app.metainfo.xml" >"$tmp/as.log" 2>&1 ||
  { cat "$tmp/as.log"; fail "the AppStream metainfo is not valid"; }
grep -q 'MimeType=application/x-esper-review;application/x-esper-bundle;' \
  "$usr/share/applications/$app.desktop" || fail "the launcher does not claim the project and bundle types"
grep -q '<glob pattern="\*.esper-review"/>' "$usr/share/mime/packages/esper-studio.xml" ||
  fail "review projects have no MIME glob"
zcat "$usr/share/man/man1/esper.1.gz" | grep -q '^\.SS caption' || fail "the esper man page lacks its verbs"
zcat "$usr/share/man/man1/esper-studio.1.gz" | grep -q '^\.TH ESPER-STUDIO 1' || fail "esper-studio's man page"

# The installed programs answer --help and --version without a display.
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=xcb "$usr/bin/esper-studio" --version |
  grep -q "ESPER Studio" || fail "esper-studio --version needs a display"
"$usr/bin/esper" --help | grep -q "usage: esper VERB" || fail "esper --help"
dpkg-deb -f "$deb" Depends | grep -q libopenblas0-pthread || fail "the package does not depend on OpenBLAS"
echo "package: $(basename "$deb") installs $(find "$tmp/root" -type f | wc -l) files; all checks passed"
