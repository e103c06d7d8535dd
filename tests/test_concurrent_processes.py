"""Issue 15: writers wait for each other. Four real processes (`main.py --db same.sqlite …`) at once, 20 rounds:
one imports a new family, two try to issue the same next month (they race for the same number), one backs up. No process may end with exit 1 (« database is locked » was « erreur inattendue »), every
acknowledged write is in the database, and statement numbers are unique and without gaps."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import main

ROOT = Path(main.__file__).resolve().parent
DATA = Path(__file__).parent / "data"
ROUNDS = 20


def _dataset() -> dict:
    data = json.loads((DATA / "example_dataset.json").read_text(encoding="utf-8"))
    data["conventions"][0]["end"] = "2026-12-31"  # 24 months to issue
    return data


def _round_file(folder: Path, round_: int, who: str) -> Path:
    """The base dataset plus one family of this round and process: a new record each time."""
    data = _dataset()
    data["families"].append({"key": f"{who}{round_}", "name": f"Famille {who} {round_}", "commune": "Bourg-en-Bresse",
                             "referent": "ref-martin"})
    path = folder / f"{who}-{round_}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _month(round_: int) -> str:
    return f"{2025 + round_ // 12}-{round_ % 12 + 1:02d}"


WORKER = """
import contextlib, io, json, sys, time
sys.path.insert(0, sys.argv[1])
import main

db, role, folder, rounds = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])

def call(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main.main(["--db", db, *args])
        except SystemExit as exc:
            code = exc.code
    print(json.dumps({"role": role, "args": args, "code": code, "out": out.getvalue(), "err": err.getvalue()}),
          flush=True)
    return code, err.getvalue()

for r in range(rounds):
    if role == "import":
        call("import", f"{folder}/A-{r}.json")
    elif role == "backup":
        call("backup", "--to", f"{folder}/sauvegarde-{r}.sqlite")
    else:  # an issuer: each month until it is issued, by this process or the other one
        month = f"{2025 + r // 12}-{r % 12 + 1:02d}"
        while True:
            code, err = call("statement", "--convention", "ap-2025", "--month", month, "--issue")
            if code == 0 or "déjà émis" in err or code not in (0, 2):
                break
            time.sleep(0.05)  # the previous month is not issued yet: its issuer is still at work
"""


def test_importing_issuing_and_backing_up_at_once_never_fails_and_loses_nothing(tmp_path):
    """Each of the four processes runs main.main() ROUNDS times (imports stay loaded: the test stays short)."""
    db = tmp_path / "commune.sqlite"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    base = tmp_path / "base.json"
    base.write_text(json.dumps(_dataset(), ensure_ascii=False), encoding="utf-8")
    for round_ in range(ROUNDS):
        _round_file(tmp_path, round_, "A")
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER, encoding="utf-8")
    first = subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", str(db), "import", str(base)], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr

    jobs = [subprocess.Popen([sys.executable, str(worker), str(ROOT), str(db), role, str(tmp_path), str(ROUNDS)],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for role in ("import", "issue", "issue", "backup")]
    calls = []
    for job in jobs:
        out, err = job.communicate(timeout=180)
        assert job.returncode == 0, err
        calls += [json.loads(line) for line in out.splitlines()]

    for call in calls:
        assert call["code"] in (0, 2) and "inattendue" not in call["err"], call  # never exit 1
    imports = [c for c in calls if c["role"] == "import"]
    assert [c["code"] for c in imports] == [0] * ROUNDS, [c["err"] for c in imports if c["code"]]
    backups = [c for c in calls if c["role"] == "backup"]
    assert [c["code"] for c in backups] == [0] * ROUNDS, backups
    issues = [c for c in calls if c["role"] == "issue"]
    acknowledged = [c["args"][4] for c in issues if c["code"] == 0]
    assert sorted(acknowledged) == [_month(r) for r in range(ROUNDS)]  # each month issued once, by one process
    for refused in (c for c in issues if c["code"] == 2):
        assert "déjà émis" in refused["err"] or "encore un projet" in refused["err"], refused

    with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        families = {row[0] for row in conn.execute("SELECT key FROM family")}
        statements = conn.execute("SELECT month, sequence, number FROM statement ORDER BY sequence").fetchall()
    assert {f"A{r}" for r in range(ROUNDS)} <= families  # every acknowledged import is there
    assert [month for month, _s, _n in statements] == [_month(r) for r in range(ROUNDS)]
    assert [sequence for _m, sequence, _n in statements] == list(range(1, ROUNDS + 1))  # unique, no gap
    assert len({number for _m, _s, number in statements}) == ROUNDS
    for round_ in range(ROUNDS):  # each acknowledged backup is a whole database
        path = tmp_path / f"sauvegarde-{round_}.sqlite"
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
