"""Forty more sessions on the example programme, inserted in one Core statement, for the big list's tests: the
Lefèvre family with Nadia Benali and the Diallo family with Julien Morel, two a week in 2024 (both on the same
day), some without a start time, durations and statuses mixed — ties in every order the list offers."""
import uuid
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert

from models import HomeSession


def add_sessions(programme, engine, count: int = 40) -> None:
    now = datetime.now(timezone.utc)
    pairs = (("F1", "i-aes"), ("F2", "i-tisf"))
    rows = [{"id": str(uuid.uuid4()), "key": f"P-{n:03d}", "family_id": programme.family[pairs[n % 2][0]],
             "intervenant_id": programme.intervenant[pairs[n % 2][1]],
             "date": date(2024, 1, 1) + timedelta(days=7 * (n // 2)),
             "start_time": None if n % 3 == 0 else time(9 + n % 4), "duration_minutes": (45, 60, 90)[n % 3],
             "status": "cancelled" if n % 5 == 0 else "held", "referent_present": True, "approved_exception": False,
             "exception_refused": False, "created_at": now, "updated_at": now}
            for n in range(count)]
    with engine.begin() as conn:
        conn.execute(insert(HomeSession.__table__), rows)
