"""The erasure horizon of an offboarded tenant: the drop's time from its final dump, the
backups that started before it, their expiry by count or by time, and cron's next times."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adxdb.errors import AdxError
from adxdb.inventory.model import Backups, Tenant
from adxdb.plan import erasure

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday
GLOBEX: dict[str, Any] = {
    "slug": "globex",
    "id": "0c9d1b8e-2f4a-4e57-8d0e-5a6b7c8d9e10",
    "name": "Globex",
    "isolation": "schema",
    "state": "absent",
    "drop": True,
}
DUMPS = ["adx_core-tenant_globex-20261201T100000Z.dump", "adx_core-tenant_globexx-x.dump"]


def _epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


BACKUPS = [
    {"label": "20261129-013000F", "type": "full", "start": _epoch(2026, 11, 29, 1, 30),
     "stop": _epoch(2026, 11, 29, 1, 35)},
    {"label": "20261129-013000F_20261130-013000D", "type": "diff",
     "start": _epoch(2026, 11, 30, 1, 30), "stop": _epoch(2026, 11, 30, 1, 31)},
    {"label": "20261129-013000F_20261202-013000D", "type": "diff",
     "start": _epoch(2026, 12, 2, 1, 30), "stop": _epoch(2026, 12, 2, 1, 31)},
]  # fmt: skip


def test_cron_gives_the_next_times_of_a_schedule() -> None:
    sundays = erasure.cron_times("30 1 * * 0", NOW, 2)
    assert sundays == [
        dt.datetime(2026, 12, 6, 1, 30, tzinfo=UTC),
        dt.datetime(2026, 12, 13, 1, 30, tzinfo=UTC),
    ]
    assert erasure.cron_times("*/20 12 * * *", NOW, 2)[0] == dt.datetime(
        2026, 12, 2, 12, 20, tzinfo=UTC
    )
    # day of month and day of week both restricted: either matches (the 3rd, or a Friday)
    assert erasure.cron_times("0 0 3 * 5", NOW, 2) == [
        dt.datetime(2026, 12, 3, tzinfo=UTC),
        dt.datetime(2026, 12, 4, tzinfo=UTC),
    ]
    assert erasure.cron_times("0 0 31 2 *", NOW, 1) == []  # never


def test_the_drop_time_is_the_final_dumps_stamp() -> None:
    tenant = Tenant.model_validate(GLOBEX)
    assert erasure.drop_time(tenant, DUMPS) == dt.datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert erasure.drop_time(tenant, DUMPS[1:]) is None  # another tenant's dump


def test_by_count_the_horizon_is_the_full_backup_that_makes_the_count() -> None:
    tenant = Tenant.model_validate(GLOBEX)
    retention = Backups(retention_full=2)
    horizon = erasure.erasure_horizon(tenant, DUMPS, BACKUPS, retention, "adx", NOW)
    # the two backups before the drop go with full 20261129; two newer fulls: Dec 6, Dec 13
    assert horizon.when == dt.datetime(2026, 12, 13, 1, 30, tzinfo=UTC)
    assert "2 backup(s) of stanza adx started before it; the last, " in horizon.lines[1]
    assert (
        "20261129-013000F_20261130-013000D, goes with full backup 20261129-013000F"
        in (horizon.lines[1])
    )
    assert horizon.lines[-1] == (
        "erasure horizon: 2026-12-13 01:30 UTC (with the WAL those backups kept)"
    )


def test_by_time_the_horizon_follows_the_next_full_backup_by_the_days_kept() -> None:
    tenant = Tenant.model_validate(GLOBEX)
    retention = Backups(retention_full=7, retention_full_type="time")
    horizon = erasure.erasure_horizon(tenant, DUMPS, BACKUPS, retention, "adx", NOW)
    # the next full (Dec 6 01:30, finishing after) is 7 days old just after the Dec 13 01:30
    # backup started: the expiry runs with the backup after that, Dec 14 01:30
    assert horizon.when == dt.datetime(2026, 12, 14, 1, 30, tzinfo=UTC)
    assert "is 7 days old, at the first backup after 2026-12-13 01:30 UTC" in horizon.lines[2]


def test_no_backup_before_the_drop_means_none_holds_it() -> None:
    tenant = Tenant.model_validate(GLOBEX)
    late = [b for b in BACKUPS if int(str(b["start"])) > _epoch(2026, 12, 1, 10)]
    horizon = erasure.erasure_horizon(tenant, DUMPS, late, Backups(), "adx", NOW)
    assert horizon.when == NOW
    assert "none holds it" in horizon.lines[-1]


def test_a_tenant_whose_data_is_kept_has_no_horizon_and_a_present_one_is_refused() -> None:
    kept = Tenant.model_validate({**GLOBEX, "drop": False})
    assert erasure.kept_answer(kept) is not None
    assert erasure.erasure_horizon(kept, DUMPS, BACKUPS, Backups(), "adx", NOW).when is None
    rls = Tenant.model_validate({**GLOBEX, "isolation": "rls", "drop": False})
    assert "the deploy deletes no rls rows" in erasure.kept_answer(rls).lines[0]  # type: ignore[union-attr]
    not_yet = erasure.erasure_horizon(
        Tenant.model_validate(GLOBEX), [], BACKUPS, Backups(), "adx", NOW
    )
    assert not_yet.when is None and "not dropped yet" in not_yet.lines[0]
    with pytest.raises(AdxError, match="tenant globex is present: offboard it first"):
        erasure.kept_answer(Tenant.model_validate({**GLOBEX, "state": "present", "drop": False}))
