#!/usr/bin/env bash
# CI for the Linux packages (called by .ci/run): builds the PyInstaller folder, the tarball and the .deb
# (packaging/build-linux.sh), then runs the FROZEN program the way a user and an IT department would:
#   selfcheck, --version, demo into a throw-away database, statement --pdf (text extractable, total equal to the
#   unfrozen run's), the window offscreen logged in with the « Aperçu PDF » tab showing pages (ui/smoke.py), the
#   .deb unpacked (dpkg -x) and its selfcheck through the /usr/bin symlink. Prints the sizes and start-up times.
# Runs on a fresh Debian as root with only Python 3.11 (installs what it needs), or anywhere those tools exist.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
step() { printf '\n== %s\n' "$*"; }
fail() { echo "ci-linux: ÉCHEC : $*" >&2; exit 1; }

step "outils"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  # binutils: PyInstaller's objcopy/objdump; poppler-utils: pdftotext; desktop-file-utils: the menu entry's
  # validator. The libraries are bundled from this machine
  # (PyInstaller copies what the Qt plugins link): libcups2 for printing, the xcb ones for the X11 window.
  need="binutils poppler-utils desktop-file-utils libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1
        libdbus-1-3 libcups2
        libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
        libxcb-xkb1 libx11-xcb1"
  missing=$(dpkg-query -W -f='${Package} ${Status}\n' $need 2>/dev/null | awk '$NF != "installed" {print $1}' || true)
  for p in $need; do dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$(echo $missing)" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi
for tool in objcopy pdftotext dpkg-deb desktop-file-validate; do command -v $tool >/dev/null || fail "$tool introuvable"; done
[ -x .venv/bin/python ] || python3 -m venv .venv
# [packaging] pins PyInstaller beside PySide6 (pyproject.toml).
.venv/bin/pip install -q -e ".[test,packaging]"
.venv/bin/python -c "import PyInstaller" 2>/dev/null || fail "PyInstaller absent (extra [packaging] de pyproject.toml)"
PY=$ROOT/.venv/bin/python

step "construction (PyInstaller, tarball, .deb)"
build_started=$(date +%s)
PYTHON=$PY bash packaging/build-linux.sh
echo "construction : $(( $(date +%s) - build_started )) s"
BUNDLE=$ROOT/packaging/dist/Parcours
CLI=$BUNDLE/parcours-cli
VERSION=$("$PY" -c 'from services.version import VERSION; print(VERSION)')

# Everything the runs write goes to a throw-away home: the user's data, settings, logs and the databases.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share \
       XDG_STATE_HOME=$WORK/home/.local/state XDG_CACHE_HOME=$WORK/home/.cache QT_QPA_PLATFORM=offscreen
mkdir -p "$HOME"

timed() {  # timed N COMMAND…: the median wall time of N runs, in seconds
  local n=$1; shift
  for _ in $(seq "$n"); do
    local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || fail "$* a échoué"; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))
  done | sort -n | awk '{t[NR]=$1} END {printf "%.2f", t[int((NR+1)/2)] / 1000}'
}

step "version"
[ "$("$CLI" --version)" = "Parcours $VERSION" ] || fail "--version ne dit pas « Parcours $VERSION »"
echo "Parcours $VERSION"

step "selfcheck du programme figé"
"$CLI" --db "$WORK/data/parcours.sqlite" selfcheck || fail "selfcheck du programme figé"
set +e
"$CLI" --db /proc/parcours-ci/parcours.sqlite selfcheck > "$WORK/readonly.txt" 2>&1
code=$?
set -e
[ $code = 2 ] && grep -q "\[ÉCHEC\] Dossier de la base" "$WORK/readonly.txt" \
  || { cat "$WORK/readonly.txt"; fail "selfcheck sur un dossier en lecture seule : code $code au lieu de 2"; }
echo "dossier en lecture seule : code 2, « Dossier de la base » en échec"

step "demo et état mensuel, figé et non figé"
"$CLI" --db "$WORK/frozen.sqlite" demo
"$PY" main.py --db "$WORK/source.sqlite" demo >/dev/null
# The first start of each after the build, up to the first window painted (the login): the frozen files are read
# as on a user's first double-click after installing (from the page cache PyInstaller's copy left them in).
cold_frozen=$(timed 1 "$BUNDLE/Parcours" --db "$WORK/frozen.sqlite" --quit-after-first-paint)
cold_python=$(timed 1 "$PY" main.py --db "$WORK/source.sqlite" --quit-after-first-paint)
# The demo's conventions and months follow today's date: take its Atout Plus convention and a past month of it.
read -r CONVENTION MONTH < <("$CLI" --db "$WORK/frozen.sqlite" export "$WORK/export.json" >/dev/null && python3 - "$WORK/export.json" <<'PY'
import json, sys
from datetime import date
conventions = json.load(open(sys.argv[1], encoding="utf-8"))["conventions"]
c = next(c for c in conventions if c["key"].startswith("AP-"))
today = date.today()
last = min(date.fromisoformat(c["end"]), date(today.year, today.month, 1))
month = max(date.fromisoformat(c["start"]), date(last.year - (last.month == 1), (last.month - 2) % 12 + 1, 1))
print(c["key"], month.strftime("%Y-%m"))
PY
)
echo "convention $CONVENTION, mois $MONTH"
"$CLI" --db "$WORK/frozen.sqlite" statement --convention "$CONVENTION" --month "$MONTH" --pdf "$WORK/frozen.pdf"
"$CLI" --db "$WORK/frozen.sqlite" statement --convention "$CONVENTION" --month "$MONTH" --json > "$WORK/frozen.json"
"$PY" main.py --db "$WORK/source.sqlite" statement --convention "$CONVENTION" --month "$MONTH" --json > "$WORK/source.json"
[ -s "$WORK/frozen.pdf" ] || fail "le PDF n'a pas été écrit"
pdftotext -layout "$WORK/frozen.pdf" "$WORK/frozen.txt"
python3 - "$WORK/frozen.json" "$WORK/source.json" "$WORK/frozen.txt" <<'PY'
import json, re, sys
from decimal import Decimal
frozen, source = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
text = open(sys.argv[3], encoding="utf-8").read()
assert frozen["total"] == source["total"], f"total figé {frozen['total']} != non figé {source['total']}"
units, cents = f"{Decimal(frozen['total']):.2f}".split(".")
spaced = re.sub(r"\B(?=(\d{3})+$)", "[\u202f\u00a0 ]?", units)  # 1 234,56 with any of the spaces
assert re.search(rf"Total[^\n]*{spaced},{cents}", text), f"« Total … {units},{cents} » introuvable dans le PDF"
assert "État mensuel" in text, "titre introuvable dans le texte du PDF"
print(f"total {frozen['total']} € : identique figé / non figé, lu dans le texte du PDF ({len(text)} caractères)")
PY

step "fenêtre hors écran : connexion, États mensuels, Aperçu PDF"
printf 'Smoke-Ci-Parcours-%s!\n' "$$" | "$CLI" --db "$WORK/frozen.sqlite" user add ci-admin --role administrator \
  --password-stdin
PARCOURS_SMOKE=statements-preview PARCOURS_SMOKE_USER=ci-admin PARCOURS_SMOKE_PASSWORD="Smoke-Ci-Parcours-$$!" \
PARCOURS_SMOKE_SECONDS=3 PARCOURS_SMOKE_SCREENSHOT="$ROOT/packaging/out/smoke-preview.png" \
  timeout 180 "$BUNDLE/Parcours" --db "$WORK/frozen.sqlite" 2> >(grep -v propagateSizeHints >&2) \
  || fail "la fenêtre figée n'a pas montré l'aperçu PDF"

step "paquet .deb : contenu, dépaquetage, selfcheck par /usr/bin/parcours-cli"
DEB=$(ls "$ROOT"/packaging/out/parcours_"$VERSION"_*.deb)
dpkg-deb --info "$DEB" | sed -n '/Package:/,/Depends:/p'
dpkg-deb --contents "$DEB" > "$WORK/deb.txt"
for entry in ./opt/parcours/Parcours ./opt/parcours/parcours-cli "./usr/bin/parcours-cli -> /opt/parcours/parcours-cli" \
             ./usr/share/applications/parcours.desktop ./usr/share/icons/hicolor/256x256/apps/parcours.png; do
  grep -qF "$entry" "$WORK/deb.txt" || fail "$entry absent du .deb"
done
dpkg -x "$DEB" "$WORK/root"
desktop-file-validate "$WORK/root/usr/share/applications/parcours.desktop" || fail "entrée de menu non valide"
# The packaged symlink points to /opt/parcours; the same link into the unpacked root checks the launcher finds its
# _internal folder through a symlink.
ln -s "$WORK/root/opt/parcours/parcours-cli" "$WORK/parcours-cli"
# env -i: nothing of CI's environment reaches it (no venv, PYTHONPATH or PYTHONHOME): the bundle's own Python runs.
env -i HOME="$HOME" PATH=/usr/bin:/bin LANG=C.UTF-8 "$WORK/parcours-cli" --db "$WORK/deb/parcours.sqlite" selfcheck \
  > "$WORK/deb-selfcheck.txt" || { cat "$WORK/deb-selfcheck.txt"; fail "selfcheck du .deb"; }
tail -1 "$WORK/deb-selfcheck.txt"

step "tailles et démarrage"
win_frozen=$(timed 3 "$BUNDLE/Parcours" --db "$WORK/frozen.sqlite" --quit-after-first-paint)
win_python=$(timed 3 "$PY" main.py --db "$WORK/frozen.sqlite" --quit-after-first-paint)
cli_frozen=$(timed 3 "$CLI" --version)
cli_python=$(timed 3 "$PY" main.py --version)
printf 'taille du dossier : %s\n' "$(du -sh "$BUNDLE" | cut -f1)"
printf 'tarball           : %s\n' "$(du -h "$ROOT"/packaging/out/parcours-"$VERSION"-linux-*.tar.gz | cut -f1)"
printf '.deb              : %s\n' "$(du -h "$DEB" | cut -f1)"
printf 'fenêtre, 1er lancement jusqu%s : figé %s s, python main.py %s s\n' "'à la première peinture" \
  "$cold_frozen" "$cold_python"
printf 'fenêtre, lancements suivants (médiane de 3) : figé %s s, python main.py %s s\n' "$win_frozen" "$win_python"
printf -- '--version (médiane de 3) : figé %s s, python main.py %s s\n' "$cli_frozen" "$cli_python"
echo "ci-linux : tout est en ordre."
