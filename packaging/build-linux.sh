#!/usr/bin/env bash
# Linux packages of Parcours, from one PyInstaller folder:
#   packaging/out/parcours-VERSION-linux-MACHINE.tar.gz   the folder + .desktop entry + icons (user install)
#   packaging/out/parcours_VERSION_ARCH.deb                the same folder in /opt/parcours, /usr/bin/parcours-cli,
#                                                          the menu entry and the icons (dpkg -i, as root)
# Usage: packaging/build-linux.sh [--no-freeze]   (--no-freeze: package packaging/dist/Parcours as it is)
# PYTHON: the interpreter with Parcours and PyInstaller installed (default .venv/bin/python);
# PARCOURS_MAINTAINER: the .deb's Maintainer field (the IT department that ships it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
OUT=$ROOT/packaging/out
DIST=$ROOT/packaging/dist
BUNDLE=$DIST/Parcours
VERSION=$(cd "$ROOT" && "$PY" -c 'from services.version import VERSION; print(VERSION)')
MACHINE=$(uname -m)
ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
mkdir -p "$OUT"

if [ "${1:-}" != "--no-freeze" ]; then
  "$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$DIST" --workpath "$ROOT/packaging/build" \
    "$ROOT/packaging/parcours.spec"
fi

# What the bundle must and must not carry (a test checks the spec; this checks what PyInstaller made of it).
internal=$BUNDLE/_internal
fail() { echo "build-linux: $*" >&2; exit 1; }
[ -x "$BUNDLE/Parcours" ] && [ -x "$BUNDLE/parcours-cli" ] || fail "launchers missing in $BUNDLE"
! find "$internal" -name 'libqgtk3*' -o -name 'libgtk-3*' -o -name 'libgdk-3*' | grep -q . \
  || fail "the GTK 3 theme plugin or GTK itself is in the bundle"
[ -f "$internal/PySide6/Qt/plugins/printsupport/libcupsprintersupport.so" ] || fail "print support plugin missing"
[ -f "$internal/libcups.so.2" ] || fail "libcups.so.2 not bundled: install libcups2 on the build machine"
[ -f "$internal/libxcb-cursor.so.0" ] || fail "libxcb-cursor.so.0 not bundled: install libxcb-cursor0 on the build machine"
ls "$internal/models/migrations/versions/"*.py >/dev/null || fail "migrations missing"
[ -f "$internal/PySide6/Qt/translations/qtbase_fr.qm" ] || fail "qtbase_fr.qm missing"

# Tarball: a folder named after the version, ready to extract anywhere.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
top=$stage/parcours-$VERSION
cp -a "$BUNDLE" "$top"
mkdir -p "$top/icons"
cp "$ROOT/resources/icons/parcours-256.png" "$ROOT/resources/icons/parcours.svg" "$top/icons/"
cp "$ROOT/packaging/linux/parcours.desktop" "$ROOT/packaging/linux/LISEZMOI.txt" "$top/"
install -m 0755 "$ROOT/packaging/linux/install-desktop-entry.sh" "$top/"
tarball=$OUT/parcours-$VERSION-linux-$MACHINE.tar.gz
tar -C "$stage" --owner=0 --group=0 -czf "$tarball" "parcours-$VERSION"

# .deb: the same folder under /opt/parcours.
deb=$stage/deb
mkdir -p "$deb/DEBIAN" "$deb/opt" "$deb/usr/bin" "$deb/usr/share/applications" \
  "$deb/usr/share/icons/hicolor/scalable/apps" "$deb/usr/share/doc/parcours"
cp -a "$BUNDLE" "$deb/opt/parcours"
ln -s /opt/parcours/parcours-cli "$deb/usr/bin/parcours-cli"
ln -s /opt/parcours/Parcours "$deb/usr/bin/parcours"
install -m 0644 "$ROOT/packaging/linux/parcours.desktop" "$deb/usr/share/applications/parcours.desktop"
for size in 16 24 32 48 64 128 256 512; do
  mkdir -p "$deb/usr/share/icons/hicolor/${size}x${size}/apps"
  install -m 0644 "$ROOT/resources/icons/parcours-$size.png" "$deb/usr/share/icons/hicolor/${size}x${size}/apps/parcours.png"
done
install -m 0644 "$ROOT/resources/icons/parcours.svg" "$deb/usr/share/icons/hicolor/scalable/apps/parcours.svg"
install -m 0644 "$ROOT/packaging/linux/LISEZMOI.txt" "$deb/usr/share/doc/parcours/LISEZMOI.txt"
size=$(du -sk --exclude=DEBIAN "$deb" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$size/" \
    -e "s/@MAINTAINER@/${PARCOURS_MAINTAINER:-Parcours <parcours@invalid>}/" \
    "$ROOT/packaging/linux/control.in" > "$deb/DEBIAN/control"
# Menus and icon caches refreshed where the tools exist (a server without a desktop has neither).
cat > "$deb/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
command -v update-desktop-database >/dev/null && update-desktop-database -q /usr/share/applications || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
exit 0
POSTINST
cp "$deb/DEBIAN/postinst" "$deb/DEBIAN/postrm"
chmod 0755 "$deb/DEBIAN/postinst" "$deb/DEBIAN/postrm"
chmod -R u+rwX,go+rX,go-w "$deb/opt" "$deb/usr"
debfile=$OUT/parcours_${VERSION}_${ARCH}.deb
# xz -2: a quarter slower to build than gzip and 15 % smaller; -6 saves 9 MB more for three times the time.
dpkg-deb --root-owner-group -Zxz -z2 --build "$deb" "$debfile" >/dev/null

echo "bundle   $(du -sh "$BUNDLE" | cut -f1)  $BUNDLE"
echo "tarball  $(du -h "$tarball" | cut -f1)  $tarball"
echo "deb      $(du -h "$debfile" | cut -f1)  $debfile"
