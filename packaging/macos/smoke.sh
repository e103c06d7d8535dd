#!/usr/bin/env bash
# macOS smoke test of the .dmg: mount it, run the app's parcours-cli (selfcheck, demo, statement --pdf) and the
# window offscreen with the PDF preview (ui/smoke.py), from the mounted image as a user would after dragging it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DMG=$(ls "$ROOT"/packaging/out/Parcours-*-macos-*.dmg | head -1)
WORK=$(mktemp -d)
MOUNT=$WORK/mount
hdiutil attach -nobrowse -readonly -mountpoint "$MOUNT" "$DMG" >/dev/null
trap 'hdiutil detach "$MOUNT" -quiet || true; rm -rf "$WORK"' EXIT
APP=$MOUNT/Parcours.app
CLI=$APP/Contents/MacOS/parcours-cli
export HOME=$WORK/home QT_QPA_PLATFORM=offscreen
mkdir -p "$HOME"
"$CLI" --version
"$CLI" --db "$WORK/smoke.sqlite" selfcheck
"$CLI" --db "$WORK/smoke.sqlite" demo
"$CLI" --db "$WORK/smoke.sqlite" export "$WORK/export.json"
read -r CONVENTION MONTH < <(python3 -c '
import json, sys
c = next(c for c in json.load(open(sys.argv[1]))["conventions"] if c["key"].startswith("AP-"))
print(c["key"], c["start"][:7])' "$WORK/export.json")
"$CLI" --db "$WORK/smoke.sqlite" statement --convention "$CONVENTION" --month "$MONTH" --pdf "$WORK/etat.pdf"
[ -s "$WORK/etat.pdf" ]
echo 'Smoke-Ci-Parcours-2026!' | "$CLI" --db "$WORK/smoke.sqlite" user add ci-admin --role administrator --password-stdin
PARCOURS_SMOKE=statements-preview PARCOURS_SMOKE_USER=ci-admin PARCOURS_SMOKE_PASSWORD='Smoke-Ci-Parcours-2026!' \
PARCOURS_SMOKE_SCREENSHOT="$ROOT/packaging/out/smoke-preview-macos.png" \
  "$APP/Contents/MacOS/Parcours" --db "$WORK/smoke.sqlite"
echo "dmg : selfcheck, démo, état PDF, aperçu : en ordre."
