"""The dated, audited purge of the audit log: command line and the window's start."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

import main
from models import AuditEntry
from services import audit


def add_entry(uow, days_ago: int, key: str) -> None:
    with uow() as w:
        # Through the service: an entry added as a bare row has no place in the chain and the database refuses it.
        audit.record(w.session, "someone", "update", "family", key, at=datetime.now(timezone.utc) - timedelta(days=days_ago))
        w.commit()


def entries(uow):
    with uow() as w:
        return [(e.action, e.record_key) for e in w.session.scalars(select(AuditEntry).order_by(AuditEntry.at))]


def test_cli_purge_deletes_old_entries_and_records_itself(uow, db_path, capsys):
    add_entry(uow, 800, "old")
    add_entry(uow, 10, "recent")
    assert main.main(["--db", db_path, "audit-purge"]) == 0
    assert "1 entrée(s)" in capsys.readouterr().out
    remaining = entries(uow)
    assert ("update", "old") not in remaining and ("update", "recent") in remaining
    assert remaining[-1][0] == "purge"


def test_cli_purge_refuses_a_period_shorter_than_the_minimum(uow, db_path, capsys):
    add_entry(uow, 800, "old")
    assert main.main(["--db", db_path, "audit-purge", "--days", "30"]) == 2
    assert "au moins" in capsys.readouterr().err
    assert ("update", "old") in entries(uow)


def test_window_start_runs_the_purge(uow):
    from cli.admin_commands import purge_audit_on_start
    add_entry(uow, 800, "old")
    purge_audit_on_start(uow)
    assert [e for e in entries(uow) if e[1] == "old"] == []
