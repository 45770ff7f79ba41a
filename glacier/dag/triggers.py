"""Triggers: what starts a deployed pipeline, as pure data on the DAG.

A ``ScheduleTrigger`` runs the pipeline on an EventBridge Scheduler expression (``rate``,
``cron`` or ``at``) in an optional IANA time zone; an ``ArrivalTrigger`` runs it when an
object is created under one of its source datasets. Both are checked when they are
declared, so a bad expression, an unknown time zone or a trigger on data the pipeline does
not read fails at definition time, not at ``pulumi up``.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from glacier.errors import DefinitionError, GraphError

if TYPE_CHECKING:
    from glacier.dag.model import DatasetNode


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ScheduleTrigger(_Frozen):
    """Run on an EventBridge Scheduler expression, in ``timezone`` (UTC when None)."""

    kind: Literal["schedule"] = "schedule"
    expression: str
    timezone: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ScheduleTrigger:
        check_schedule_expression(self.expression)
        if self.timezone is not None:
            check_timezone(self.timezone)
        return self


class ArrivalTrigger(_Frozen):
    """Run when an object is created in ``bucket`` at one of ``keys`` (file datasets) or under
    one of ``key_prefixes`` (directory datasets, or the declared ``prefix`` inside one): only
    the source ``datasets`` it matched, so the pipeline's own outputs never start it again."""

    kind: Literal["arrival"] = "arrival"
    bucket: str
    prefix: str | None = None
    datasets: tuple[str, ...]
    key_prefixes: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()


Trigger = Annotated[ScheduleTrigger | ArrivalTrigger, Field(discriminator="kind")]


@dataclass(frozen=True)
class ArrivalSpec:
    """``.on_arrival(bucket, prefix)`` as declared, before it is matched to the sources."""

    bucket: str
    prefix: str | None = None


# -- schedule expressions (EventBridge Scheduler syntax) ------------------------------------
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# field name, lowest and highest value, names that stand for values (JAN = 1, SUN = 1)
_CRON_FIELDS: tuple[tuple[str, int, int, list[str]], ...] = (
    ("minutes", 0, 59, []),
    ("hours", 0, 23, []),
    ("day-of-month", 1, 31, []),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, []),
)
_SCHEDULE_FIX = (
    "use EventBridge Scheduler syntax: 'rate(1 day)', 'rate(15 minutes)', "
    "'cron(0 6 * * ? *)' (minutes hours day-of-month month day-of-week year) or "
    "'at(2026-12-01T06:00:00)'."
)


def check_schedule_expression(expression: object) -> None:
    """Refuse an expression EventBridge Scheduler would refuse, naming what is wrong."""
    problem = _schedule_problem(expression)
    if problem is not None:
        raise DefinitionError(
            f"Schedule expression {expression!r} is not valid: {problem}.", fix=_SCHEDULE_FIX
        )


def _schedule_problem(expression: object) -> str | None:
    if not isinstance(expression, str):
        return "it is not a string"
    text = expression.strip()
    if text.startswith("rate("):
        return _rate_problem(text)
    if text.startswith("cron("):
        match = _CRON.match(text)
        return _cron_problem(match.group(1)) if match else "it does not end with ')'"
    if text.startswith("at("):
        return _at_problem(text)
    return "it must start with rate(, cron( or at("


def _rate_problem(text: str) -> str | None:
    match = _RATE.match(text)
    if match is None:
        return "a rate is 'rate(<positive whole number> <minute(s)|hour(s)|day(s)>)'"
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        return "the rate must be at least 1"
    if (value == 1) != (not unit.endswith("s")):
        return f"say '{value} {unit.rstrip('s') if value == 1 else unit + 's'}'"
    return None


def _cron_problem(body: str) -> str | None:
    fields = body.split()
    if len(fields) != 6:
        return f"a cron has 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    for (name, low, high, names), value in zip(_CRON_FIELDS, fields, strict=True):
        problem = _cron_field_problem(name, value, low, high, names)
        if problem:
            return problem
    return None


def _cron_field_problem(name: str, value: str, low: int, high: int, names: list[str]) -> str | None:
    if value == "?":
        return (
            None
            if name in ("day-of-month", "day-of-week")
            else f"'?' is allowed only in the day fields, not {name}"
        )
    if name == "day-of-month" and re.fullmatch(r"L|LW|\d{1,2}W", value):
        return _in_range(name, value.rstrip("W") if value[0].isdigit() else str(low), low, high)
    if name == "day-of-week" and re.fullmatch(r"L|\w{1,3}L|\w{1,3}#[1-5]", value):
        head = value.split("#")[0].rstrip("L") or str(low)
        return _in_range(name, head, low, high, names)
    for item in value.split(","):
        base, _, step = item.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return f"{name} step '{step}' is not a positive whole number"
        if base == "*":
            continue
        for bound in base.split("-", 1):
            problem = _in_range(name, bound, low, high, names)
            if problem:
                return problem
    return None


def _in_range(name: str, token: str, low: int, high: int, names: Sequence[str] = ()) -> str | None:
    if token.upper() in names:
        return None
    if not token.isdigit() or not low <= int(token) <= high:
        allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
        return f"{name} value '{token}' is not in {allowed}"
    return None


def _at_problem(text: str) -> str | None:
    match = _AT.match(text)
    if match is None:
        return "a one-time schedule is 'at(yyyy-mm-ddThh:mm:ss)'"
    try:
        datetime.fromisoformat(match.group(1))
    except ValueError as exc:
        return f"{match.group(1)} is not a date and time ({exc})"
    return None


def check_timezone(timezone: object) -> None:
    """An IANA time zone name (``Europe/Paris``), as EventBridge Scheduler takes it."""
    try:
        if not isinstance(timezone, str) or not timezone:
            raise ValueError(timezone)
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DefinitionError(
            f"Schedule time zone {timezone!r} is not an IANA time zone name.",
            fix="use a name such as 'UTC', 'Europe/Paris' or 'America/New_York' "
            "(zoneinfo.available_timezones() lists them).",
        ) from None


# -- arrival triggers, matched to the pipeline's source datasets ----------------------------
def check_prefix(bucket: str, prefix: object) -> None:
    if prefix is not None and (not isinstance(prefix, str) or prefix.startswith("/")):
        raise DefinitionError(
            f"on_arrival('{bucket}', prefix={prefix!r}): the prefix must be an object key prefix.",
            fix="pass a key prefix without a leading '/', e.g. prefix='raw/events/'.",
        )


def _overlap(ds: DatasetNode, prefix: str | None) -> tuple[Literal["key", "prefix"], str] | None:
    """Where new objects under ``prefix`` are part of ``ds``: its one key (a file dataset), a
    key prefix (a directory dataset, or the declared prefix inside one), or nowhere."""
    if prefix is None or ds.path.startswith(prefix):
        return ("prefix", ds.path) if ds.is_directory else ("key", ds.path)
    if ds.is_directory and prefix.startswith(ds.path):
        return "prefix", prefix
    return None


def resolve_triggers(
    pipeline: str,
    schedules: Sequence[ScheduleTrigger],
    arrivals: Sequence[ArrivalSpec],
    sources: Iterable[DatasetNode],
) -> tuple[ScheduleTrigger | ArrivalTrigger, ...]:
    """The pipeline's triggers with each arrival matched to the source datasets it covers;
    an arrival that covers none is a DefinitionError naming both sides."""
    if len(schedules) > 1:
        raise DefinitionError(
            f"Pipeline '{pipeline}' has {len(schedules)} schedules "
            f"({', '.join(s.expression for s in schedules)}).",
            fix="give a pipeline one .on_schedule(); one cron expression can name several times, "
            "e.g. 'cron(0 6,18 * * ? *)'.",
        )
    source_list = sorted(sources, key=lambda d: d.id)
    resolved: list[ScheduleTrigger | ArrivalTrigger] = list(schedules)
    for spec in dict.fromkeys(arrivals):  # each declared arrival once
        matched = [(ds, _overlap(ds, spec.prefix)) for ds in source_list if ds.bucket == spec.bucket]
        hits = [(ds, key) for ds, key in matched if key is not None]
        if not hits:
            where = f"bucket '{spec.bucket}'" + (f" under '{spec.prefix}'" if spec.prefix else "")
            reads = ", ".join(f"'{ds.id}'" for ds in source_list) or "none"
            raise DefinitionError(
                f"Pipeline '{pipeline}' triggers on arrival in {where}, but reads no dataset there "
                f"(its source datasets: {reads}).",
                fix="trigger on a dataset the pipeline reads, e.g. .on_arrival(raw) with the source "
                "bucket itself, or a prefix inside one of its source datasets.",
            )
        where_keys = [where for _, where in hits if where is not None]
        resolved.append(
            ArrivalTrigger(
                bucket=spec.bucket,
                prefix=spec.prefix,
                datasets=tuple(ds.id for ds, _ in hits),
                key_prefixes=tuple(sorted({value for kind, value in where_keys if kind == "prefix"})),
                keys=tuple(sorted({value for kind, value in where_keys if kind == "key"})),
            )
        )
    return tuple(resolved)


def check_dag_triggers(
    pipeline: str, triggers: Sequence[ScheduleTrigger | ArrivalTrigger], source_ids: set[str]
) -> None:
    """A DAG read back from JSON keeps its triggers consistent with its datasets."""
    if sum(isinstance(t, ScheduleTrigger) for t in triggers) > 1:
        raise GraphError(f"Pipeline '{pipeline}' has more than one schedule.", fix="keep one schedule.")
    for trigger in triggers:
        if isinstance(trigger, ArrivalTrigger):
            unknown = [d for d in trigger.datasets if d not in source_ids]
            if unknown or not trigger.datasets:
                raise GraphError(
                    f"Pipeline '{pipeline}' has an arrival trigger on '{trigger.bucket}' naming "
                    f"{', '.join(unknown) or 'no dataset'}, which is not a source dataset of it.",
                    fix="regenerate the JSON with `glacier graph PATH --format json` instead of editing it.",
                )
