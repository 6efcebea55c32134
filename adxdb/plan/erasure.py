"""When an offboarded tenant's data leaves the last backup (`adxdb tenant-erasure-horizon`).

A dropped tenant's schema or database is gone from its cluster at its final dump's time (the
deploy dumps it, then drops it: `/var/backups/adx/<name>-<stamp>.dump` on its host). Every
backup that started before then may hold it, with the WAL it needs. pgBackRest expires a full
backup with its differentials and WAL after a backup, under `retention_full`: by count, once
that many newer full backups exist; by time, once the next newer full backup is older than
that many days (the window must stay restorable). The schedule (`full_schedule`, cron) says
when the backups that expire it run.

Pure: the drop time from the dump names, the backups holding the data, the expiry, cron.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adxdb.contract import MAIN_DATABASE, tenant_database, tenant_schema
from adxdb.errors import AdxError
from adxdb.inventory.model import Backups, Tenant

DUMP_DIR = "/var/backups/adx"  # operations/tenants.py BACKUP_DIR: the final dumps
_STAMP = re.compile(r"-(\d{8}T\d{6}Z)\.dump$")
_FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def _text(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            start, stop = low, high
        elif "-" in base:
            start, stop = (int(n) for n in base.split("-"))
        else:
            start = int(base)
            stop = high if step else start
        values.update(range(start, stop + 1, int(step or 1)))
    return values


def cron_times(schedule: str, after: dt.datetime, count: int) -> list[dt.datetime]:
    """The next `count` times (UTC) a five-field cron schedule fires after `after` (within
    about two years); day of month and day of week restricted both: either matches."""
    fields = schedule.split()
    minutes, hours, days, months, weekdays = (
        _field(f, low, high) for f, (low, high) in zip(fields, _FIELD_RANGES, strict=True)
    )
    weekdays = {d % 7 for d in weekdays}
    any_day, any_weekday = fields[2] == "*", fields[4] == "*"
    found: list[dt.datetime] = []
    day = after.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(800):
        weekday = (day.weekday() + 1) % 7  # cron: 0 is Sunday
        if any_day and any_weekday:
            matches = True
        elif any_day or any_weekday:
            matches = (day.day in days) if any_weekday else (weekday in weekdays)
        else:
            matches = day.day in days or weekday in weekdays
        if day.month in months and matches:
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    when = day.replace(hour=hour, minute=minute)
                    if when > after:
                        found.append(when)
                        if len(found) == count:
                            return found
        day += dt.timedelta(days=1)
    return found


def drop_time(tenant: Tenant, dump_names: Sequence[str]) -> dt.datetime | None:
    """When the deploy dropped the tenant's schema or database: its final dump's stamp."""
    prefix = (
        f"{MAIN_DATABASE}-{tenant_schema(tenant.slug)}-"
        if tenant.isolation == "schema"
        else f"{tenant_database(tenant.slug)}-"
    )
    stamps = []
    for name in dump_names:
        match = _STAMP.search(name)
        if name.startswith(prefix) and match and len(name) == len(prefix) + len(match[0]) - 1:
            stamps.append(dt.datetime.strptime(match[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC))
    return max(stamps) if stamps else None


@dataclass(frozen=True)
class Horizon:
    """The answer: when (None: no horizon yet) and the lines that explain it."""

    when: dt.datetime | None
    lines: tuple[str, ...]


def kept_answer(tenant: Tenant) -> Horizon | None:
    """The answer for a tenant whose data is still in its cluster (or AdxError: present), or
    None for a dropped one (the hosts tell when)."""
    if tenant.state == "present":
        raise AdxError(
            f"tenant {tenant.slug} is present: offboard it first (state: absent, drop: true)"
        )
    if tenant.isolation == "rls":
        return Horizon(
            None,
            (
                f"tenant {tenant.slug} (rls): its rows stay in the main database's shared "
                "tables when it is offboarded (the deploy deletes no rls rows), so every "
                "backup holds them: no erasure horizon until they are deleted",
            ),
        )
    if not tenant.drop:
        return Horizon(
            None,
            (
                f"tenant {tenant.slug} ({tenant.isolation}): offboarded without drop: true, its "
                "data is kept in the cluster and every backup holds it: no erasure horizon",
            ),
        )
    return None


def erasure_horizon(
    tenant: Tenant,
    dump_names: Sequence[str],
    backups: Sequence[Mapping[str, Any]],
    retention: Backups,
    stanza: str,
    now: dt.datetime,
) -> Horizon:
    """When the last backup of `stanza` that may hold the dropped tenant expires."""
    kept = kept_answer(tenant)
    if kept is not None:
        return kept
    dropped = drop_time(tenant, dump_names)
    if dropped is None:
        return Horizon(
            None,
            (
                f"tenant {tenant.slug}: not dropped yet (no final dump in {DUMP_DIR}): run the "
                "deploy with state: absent, drop: true first",
            ),
        )
    lines = [
        f"tenant {tenant.slug} ({tenant.isolation}) dropped at {_text(dropped)}; its final dump "
        f"in {DUMP_DIR} on its host holds it too (delete it when it may go)"
    ]
    holders = [b for b in backups if _utc(int(b["start"])) < dropped]
    if not holders:
        lines.append(f"no backup of stanza {stanza} started before the drop: none holds it")
        return Horizon(now, tuple(lines))
    last = holders[-1]
    full = str(last["label"]).split("_", 1)[0]
    fulls = [b for b in backups if b["type"] == "full"]
    newer = [b for b in fulls if str(b["label"]) > full]
    lines.append(
        f"{len(holders)} backup(s) of stanza {stanza} started before it; the last, "
        f"{last['label']}, goes with full backup {full}"
    )
    count = int(retention.retention_full)
    if retention.retention_full_type == "count":
        remaining = count - len(newer)
        if remaining <= 0:
            lines.append("it is due to expire at the next backup")
            return Horizon(now, tuple(lines))
        times = cron_times(retention.full_schedule, now, remaining)
        when = times[-1] if len(times) == remaining else None
        lines.append(
            f"retention_full {count} (count): it expires once {count} newer full backups exist; "
            f"{len(newer)} do, {remaining} more to come (full_schedule '{retention.full_schedule}')"
        )
    else:
        if newer:
            base, source = _utc(int(newer[0]["stop"])), f"full backup {newer[0]['label']}"
        else:
            upcoming = cron_times(retention.full_schedule, now, 1)
            if not upcoming:
                return Horizon(None, (*lines, "full_schedule never fires: no horizon"))
            base, source = upcoming[0], "the next scheduled full backup"
        due = base + dt.timedelta(days=count)
        runs = sorted(
            cron_times(retention.full_schedule, due, 1)
            + cron_times(retention.diff_schedule, due, 1)
        )
        when = runs[0] if runs else None
        lines.append(
            f"retention_full {count} days (time): it expires once {source} ({_text(base)}) is "
            f"{count} days old, at the first backup after {_text(due)}"
        )
    if when is None:
        return Horizon(None, (*lines, "the schedule does not reach it: no horizon"))
    lines.append(f"erasure horizon: {_text(when)} (with the WAL those backups kept)")
    return Horizon(when, tuple(lines))
