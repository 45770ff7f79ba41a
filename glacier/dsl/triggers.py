"""``.on_schedule()`` / ``.on_arrival()``: the triggers a pipeline definition records.

Bucket (with lineage) and Pipeline both hold a ``Triggers`` value; the schedule is checked
when it is declared, each arrival when the pipeline is compiled (only then are its source
datasets known).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from glacier.dag.refs import check_bucket_name
from glacier.errors import DefinitionError

if TYPE_CHECKING:
    from glacier.dag.triggers import ArrivalSpec, ScheduleTrigger


@dataclass(frozen=True)
class Triggers:
    """The schedules and arrivals declared on one pipeline definition."""

    schedules: tuple[ScheduleTrigger, ...] = ()
    arrivals: tuple[ArrivalSpec, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.schedules or self.arrivals)

    def with_schedule(self, expression: str, timezone: str | None) -> Triggers:
        # The typed triggers (pydantic) load only for a pipeline that declares one.
        from glacier.dag.triggers import ScheduleTrigger, check_schedule_expression, check_timezone

        # Checked here too, so the user gets the DefinitionError itself, not pydantic's wrapper.
        check_schedule_expression(expression)
        if timezone is not None:
            check_timezone(timezone)
        trigger = ScheduleTrigger(expression=expression, timezone=timezone)
        return replace(self, schedules=(*self.schedules, trigger))

    def with_arrival(self, bucket: Any, prefix: str | None) -> Triggers:
        return replace(self, arrivals=(*self.arrivals, arrival_spec(bucket, prefix)))


def arrival_spec(bucket: Any, prefix: str | None) -> ArrivalSpec:
    """A bucket name, or a dataset (a Bucket / Pipeline): then its bucket, and its path as the
    prefix unless one is given."""
    from glacier.dag.triggers import ArrivalSpec, check_prefix

    if hasattr(bucket, "as_bucket"):
        dataset = bucket.as_bucket()
        name, prefix = dataset.bucket, dataset.path if prefix is None else prefix
    elif isinstance(bucket, str):
        name = bucket
    else:
        raise DefinitionError(
            f"on_arrival() got {bucket!r}, which is neither a bucket name nor a dataset.",
            fix="pass the source dataset (.on_arrival(raw)) or a bucket name "
            "(.on_arrival('lake', prefix='raw/')).",
        )
    check_bucket_name(name)
    check_prefix(name, prefix)
    return ArrivalSpec(bucket=name, prefix=prefix or None)
