#!/usr/bin/env bash
# macOS: Parcours.app (PyInstaller, with parcours-cli beside the app's launcher in Contents/MacOS) in a .dmg.
#   bash packaging/macos/build.sh        PYTHON: the interpreter with Parcours and [packaging] (default .venv)
# Signing and notarization (each skipped, with a notice, when its secrets are absent):
#   MACOS_CERT_P12_BASE64, MACOS_CERT_PASSWORD, MACOS_SIGN_IDENTITY   "Developer ID Application: …" certificate
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD                       notarytool credentials (app-specific password)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY=${PYTHON:-$ROOT/.venv/bin/python}
VERSION=$("$PY" -c 'from services.version import VERSION; print(VERSION)')
DIST=$ROOT/packaging/dist
OUT=$ROOT/packaging/out
mkdir -p "$OUT"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$DIST" --workpath "$ROOT/packaging/build" \
  packaging/parcours.spec
APP=$DIST/Parcours.app
[ -x "$APP/Contents/MacOS/Parcours" ] && [ -x "$APP/Contents/MacOS/parcours-cli" ] || { echo "launchers missing in $APP" >&2; exit 1; }

if [ -n "${MACOS_CERT_P12_BASE64:-}" ] && [ -n "${MACOS_CERT_PASSWORD:-}" ] && [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  keychain=$RUNNER_TEMP/parcours-signing.keychain-db
  keychain_password=$(uuidgen)
  echo "$MACOS_CERT_P12_BASE64" | base64 --decode > "$RUNNER_TEMP/cert.p12"
  security create-keychain -p "$keychain_password" "$keychain"
  security set-keychain-settings -lut 3600 "$keychain"
  security unlock-keychain -p "$keychain_password" "$keychain"
  security import "$RUNNER_TEMP/cert.p12" -k "$keychain" -P "$MACOS_CERT_PASSWORD" -T /usr/bin/codesign
  security set-key-partition-list -S apple-tool:,apple: -k "$keychain_password" "$keychain" >/dev/null
  security list-keychains -d user -s "$keychain" $(security list-keychains -d user | tr -d '"')
  rm -f "$RUNNER_TEMP/cert.p12"
  # Inside out: every library, then the launchers, then the app (--deep is not enough for notarization).
  find "$APP/Contents" -type f \( -name '*.so' -o -name '*.dylib' \) -print0 | xargs -0 -n 50 \
    codesign --force --timestamp --options runtime --sign "$MACOS_SIGN_IDENTITY"
  for exe in "$APP/Contents/MacOS/parcours-cli" "$APP"; do
    codesign --force --timestamp --options runtime --entitlements packaging/macos/entitlements.plist \
      --sign "$MACOS_SIGN_IDENTITY" "$exe"
  done
  codesign --verify --deep --strict --verbose=2 "$APP"
  signed=yes
else
  echo "Signature ignorée : MACOS_CERT_P12_BASE64, MACOS_CERT_PASSWORD ou MACOS_SIGN_IDENTITY absent."
  signed=
fi

# The .dmg: the app and a link to /Applications, to drag it there.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$APP" "$stage/"
ln -s /Applications "$stage/Applications"
DMG=$OUT/Parcours-$VERSION-macos-$(uname -m).dmg
rm -f "$DMG"
hdiutil create -volname "Parcours $VERSION" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$DMG"
if [ -n "$signed" ]; then
  codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$DMG"
  if [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    xcrun notarytool submit "$DMG" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
      --password "$APPLE_APP_PASSWORD" --wait
    xcrun stapler staple "$DMG"
  else
    echo "Notarisation ignorée : APPLE_ID, APPLE_TEAM_ID ou APPLE_APP_PASSWORD absent."
  fi
fi
echo "app $(du -sh "$APP" | cut -f1) ; dmg $(du -h "$DMG" | cut -f1) : $DMG"
