"""The canonical datasets of data-contract.md: columns, types, rules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text | int | float | bool | timestamp | date | duration
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    default: str | float | None = None  # used when the value is empty or the column absent


@dataclass(frozen=True)
class Derivation:
    """A column computed from others when the export does not have it.

    `how` names one of the generic operations in `tpmkit.data.derive` (the operation
    itself needs polars, which this module does not import)."""

    column: str
    how: str  # not_null: inputs[0] is not empty | seconds_between: inputs[1] - inputs[0]
    inputs: tuple[str, ...]
    words: str  # how it is derived, for messages

    def possible(self, present: set[str], required: set[str]) -> bool:
        """True when the export can give this column: each input is present, or required
        (a missing required input is reported on its own)."""
        return all(c in present or c in required for c in self.inputs)

    def provide(self, required: set[str]) -> list[str]:
        """The inputs a user adds to have it derived (required ones go without saying)."""
        return [c for c in self.inputs if c not in required]


@dataclass(frozen=True)
class DatasetContract:
    name: str
    columns: tuple[Column, ...]
    time_column: str | None
    id_column: str | None = None
    # (earlier, later): a row where `later` < `earlier` breaks the contract
    ordered: tuple[tuple[str, str], ...] = ()
    # (column, limit column, limit when that column is absent or empty): qa score <= max_score
    not_above: tuple[tuple[str, str, float], ...] = ()
    # columns computed from others when the export lacks them (required ones may be)
    derivations: tuple[Derivation, ...] = ()
    # required columns whose values may be empty (an abandoned call has no queue time)
    may_be_empty: tuple[str, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def derivation(self, column: str) -> Derivation | None:
        """How `column` is derived when the export lacks it (None: it is not)."""
        return next((d for d in self.derivations if d.column == column), None)


def _c(
    name: str,
    type_: str,
    required: bool = False,
    lo: float | None = None,
    hi: float | None = None,
    default: str | float | None = None,
) -> Column:
    return Column(name, type_, required, lo, hi, default)


CALLS = DatasetContract(
    "calls",
    (
        _c("contact_id", "text", True),
        _c("offered_at", "timestamp", True),
        _c("channel", "text", default="voice"),
        _c("queue", "text"),
        _c("agent_id", "text"),
        _c("customer_id", "text"),
        _c("answered", "bool", True),
        _c("answered_at", "timestamp"),
        _c("wait_seconds", "duration", True),
        _c("talk_seconds", "duration"),
        _c("hold_seconds", "duration"),
        _c("acw_seconds", "duration"),
        _c("transferred", "bool"),
        _c("escalated", "bool"),
        _c("resolved", "bool"),
        _c("csat", "int", lo=1, hi=5),
        _c("nps", "int", lo=0, hi=10),
        _c("dsat_root_cause", "text"),
    ),
    time_column="offered_at",
    id_column="contact_id",
    ordered=(("offered_at", "answered_at"),),
    derivations=(
        Derivation("answered", "not_null", ("answered_at",), "answered_at IS NOT NULL"),
        Derivation(
            "wait_seconds",
            "seconds_between",
            ("offered_at", "answered_at"),
            "answered_at - offered_at (answered rows)",
        ),
    ),
    may_be_empty=("answered", "wait_seconds"),
)

TICKETS = DatasetContract(
    "tickets",
    (
        _c("ticket_id", "text", True),
        _c("created_at", "timestamp", True),
        _c("first_response_at", "timestamp"),
        _c("resolved_at", "timestamp"),
        _c("agent_id", "text"),
        _c("priority", "text"),
        _c("channel", "text"),
        _c("customer_id", "text"),
        _c("reopens", "int", lo=0, default=0.0),
        _c("escalated", "bool"),
        _c("due_at", "timestamp"),
        _c("csat", "int", lo=1, hi=5),
    ),
    time_column="created_at",
    id_column="ticket_id",
    ordered=(("created_at", "first_response_at"), ("created_at", "resolved_at")),
)

QA = DatasetContract(
    "qa",
    (
        _c("evaluation_id", "text", True),
        _c("agent_id", "text", True),
        _c("evaluated_at", "timestamp", True),
        _c("score", "float", True, lo=0),
        _c("max_score", "float", lo=1e-9, default=100.0),
        _c("contact_id", "text"),
        _c("interaction_at", "timestamp"),
        _c("evaluator_id", "text"),
        _c("auto_fail", "bool"),
        _c("calibration_id", "text"),
        _c("error_category", "text"),
        _c("root_cause", "text"),
    ),
    time_column="evaluated_at",
    id_column="evaluation_id",
    ordered=(("interaction_at", "evaluated_at"),),
    not_above=(("score", "max_score", 100.0),),
)

SCHEDULE = DatasetContract(
    "schedule",
    (
        _c("agent_id", "text", True),
        _c("date", "date", True),
        _c("scheduled_seconds", "duration", True),
        _c("adherent_seconds", "duration"),
        _c("logged_in_seconds", "duration"),
        _c("handle_seconds", "duration"),
        _c("available_seconds", "duration"),
        _c("paid_seconds", "duration"),
    ),
    time_column="date",
)

COSTS = DatasetContract(
    "costs",
    (
        _c("date", "date", True),
        _c("amount", "float", True),
        _c("site", "text"),
        _c("vendor", "text"),
        _c("team", "text"),
    ),
    time_column="date",
)

AGENTS = DatasetContract(
    "agents",
    (
        _c("agent_id", "text", True),
        _c("name", "text"),
        _c("team", "text"),
        _c("team_lead", "text"),
        _c("site", "text"),
        _c("vendor", "text"),
        _c("role", "text"),
        _c("hire_date", "date"),
        _c("leave_date", "date"),  # the last working day; empty while employed
        _c("leave_reason", "text"),  # voluntary, involuntary, transfer, other
    ),
    time_column=None,
    id_column="agent_id",
    ordered=(("hire_date", "leave_date"),),
)

# who owns a queue: attributes the contacts no agent took (an abandoned call on a
# partner's queue counts in the partner's service level)
QUEUES = DatasetContract(
    "queues",
    (
        _c("queue", "text", True),
        _c("team", "text"),
        _c("site", "text"),
        _c("vendor", "text"),
        _c("line_of_business", "text"),
    ),
    time_column=None,
    id_column="queue",
)

# context notes on data points (an `annotations` source, or annotations.csv beside the
# project file); read by tpmkit.annotations, which keeps a date-only `from`/`to` apart from
# a timestamp (a whole day), so the rows are not typed by the generic loader
ANNOTATIONS = DatasetContract(
    "annotations",
    (
        _c("from", "timestamp", True),
        _c("to", "timestamp"),
        _c("text", "text", True),
        _c("kind", "text"),
        _c("metric", "text"),
        _c("group", "text"),
        _c("value", "text"),
        _c("exclude", "bool"),
    ),
    time_column="from",
    ordered=(("from", "to"),),
)
ANNOTATION_KINDS = ("outage", "holiday", "process_change", "data_issue", "other")

# the coaching log: one row per session (`tpmkit coaching`, kpi-catalogue.md "Coaching effect")
COACHING = DatasetContract(
    "coaching",
    (
        _c("session_id", "text", True),
        _c("agent_id", "text", True),
        _c("coached_at", "timestamp", True),
        _c("coach", "text"),
        _c("metric", "text"),  # metric id(s) the session targets, comma-separated
        _c("topic", "text"),
    ),
    time_column="coached_at",
    id_column="session_id",
)

CANONICAL: dict[str, DatasetContract] = {
    d.name: d for d in (CALLS, TICKETS, QA, SCHEDULE, COSTS, AGENTS, QUEUES, ANNOTATIONS, COACHING)
}
ROSTER_DIMENSIONS = (
    "name",
    "team",
    "team_lead",
    "site",
    "vendor",
    "role",
    "hire_date",
    "tenure_band",
)
# a dimension the roster does not hold but gives: the tenure band on each row's own day,
# from the roster's hire_date (kpi-catalogue.md, "workforce"; data/attribution.py)
TENURE_BAND = "tenure_band"
# tenure bands in days on a row's own day, 0 on the hire day (kpi-catalogue.md)
TENURE_BANDS = ((30, "0-30"), (90, "31-90"), (180, "91-180"), (365, "181-365"))
OVER_A_YEAR = ">365"
QUEUE_DIMENSIONS = ("team", "site", "vendor", "line_of_business")
# Where a row's dimension comes from when its own column is null, in order: the lookup
# dataset and the row's column it is joined on (data-contract.md, "Dimensions").
ATTRIBUTION = (("agents", "agent_id"), ("queues", "queue"))
