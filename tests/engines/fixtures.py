"""The adversarial project the engines must agree on: the built-in catalogue over exports
whose instants sit on the edges where engines differ — ISO week 53 and the year change,
the DST days (a local hour that does not exist, one that happens twice, written with its
offset), instants 1 µs either side of day, week, month, quarter and year boundaries,
agents with no team (null groups), tied and tiny percentile groups, repeat contacts at the
same instant, at exactly 7 days and 1 µs later, null customer ids, calibration groups of
one, two and three, open and censored tickets. Seeded: the same files every run."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

ZONE = "Europe/Berlin"
EDGES = [  # local wall-clock times 1 µs either side of period boundaries
    "2026-03-28 23:59:59.999999",
    "2026-03-29 00:00:00",
    "2026-03-29 01:59:59.999999",
    "2026-03-29 03:00:00",  # 02:00-03:00 does not exist that day
    "2026-03-31 23:59:59.999999",
    "2026-04-01 00:00:00",
    "2026-10-24 23:59:59.999999",
    "2026-10-25 00:00:00",
    "2026-10-25T02:30:00+02:00",  # 02:30 happens twice: before the change ...
    "2026-10-25T02:30:00+01:00",  # ... and after it
    "2026-10-25T02:59:59.999999+01:00",
    "2026-10-25 03:00:00",
    "2026-12-27 23:59:59.999999",  # Sunday of 2026-W52
    "2026-12-28 00:00:00",  # Monday of 2026-W53
    "2026-12-31 23:59:59.999999",
    "2027-01-01 00:00:00",  # still 2026-W53
    "2027-01-03 23:59:59.999999",
    "2027-01-04 00:00:00",  # 2027-W01
]
AGENTS = [f"A{i:02d}" for i in range(1, 9)]
TEAMS = {"A01": "North", "A02": "North", "A03": "South", "A04": "South", "A05": "South"}
# A06-A08 have no team: a null group


def _moments(rng: random.Random) -> list[str]:
    """The edge instants and random ones in the weeks around them."""
    found = list(EDGES)
    for first in (dt.datetime(2026, 3, 23), dt.datetime(2026, 10, 19), dt.datetime(2026, 12, 21)):
        for _ in range(260):
            moment = first + dt.timedelta(seconds=rng.randrange(0, 21 * 86400))
            if moment.month == 3 and moment.day == 29 and moment.hour == 2:
                continue  # a wall-clock time that does not exist
            if moment.month == 10 and moment.day == 25 and moment.hour == 2:
                continue  # ambiguous without an offset: written with one above
            found.append(moment.strftime("%Y-%m-%d %H:%M:%S"))
    return found


def _at(text: str) -> dt.datetime:
    """A written instant as an aware datetime (a wall-clock time read in the zone)."""
    moment = dt.datetime.fromisoformat(text.replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(ZONE))
    return moment.astimezone(dt.UTC)


def _written(moment: dt.datetime | None) -> str:
    """An instant written with its UTC offset in the zone (never in a DST gap)."""
    return moment.astimezone(ZoneInfo(ZONE)).isoformat() if moment else ""


def calls_csv(rng: random.Random) -> str:
    lines = [
        "contact_id,offered_at,queue,agent_id,customer_id,answered,wait_seconds,talk_seconds,"
        "hold_seconds,acw_seconds,transferred,escalated,resolved,csat,nps,dsat_root_cause"
    ]
    moments = _moments(rng)
    repeats = [  # (offset from a base, customer): same instant, exactly 7 days, 7 days + 1 µs
        ("2026-12-21 10:00:00", "R1"),
        ("2026-12-21 10:00:00", "R1"),
        ("2026-12-28 10:00:00", "R1"),
        ("2026-12-22 10:00:00", "R2"),
        ("2026-12-29 10:00:00.000001", "R2"),
        ("2026-03-25 12:00:00", "R3"),
        ("2026-03-30 12:00:00", "R3"),  # across the spring change
    ]
    rows = [(m, None) for m in moments] + [(m, c) for m, c in repeats]
    for i, (moment, customer) in enumerate(rows):
        agent = rng.choice(AGENTS)
        answered = rng.random() > 0.12
        wait = rng.choice([0, 3, 5, 12, 20, 20, 21, 45, 90]) if rng.random() > 0.02 else ""
        talk = rng.choice([60, 120, 120, 300, 301, 600]) if answered else ""
        who = customer or (rng.choice(["K1", "K2", "K3", "K4", ""]) if rng.random() > 0.3 else "")
        csat = rng.choice(["", "1", "2", "3", "4", "5", "5"]) if answered else ""
        nps = rng.choice(["", "0", "6", "7", "9", "10"]) if answered else ""
        root = rng.choice(["", "training", "product"]) if csat in ("1", "2") else ""
        flags = [rng.choice(["true", "false", ""]) for _ in range(3)]
        lines.append(
            f"C{i:05d},{moment},Q{rng.randint(1, 2)},{agent if answered else ''},{who},"
            f"{str(answered).lower()},{wait},{talk},{rng.choice(['', 0, 30])},"
            f"{rng.choice([0, 15, 60])},{flags[0]},{flags[1]},{flags[2]},{csat},{nps},{root}"
        )
    return "\n".join(lines) + "\n"


def tickets_csv(rng: random.Random) -> str:
    lines = [
        "ticket_id,created_at,first_response_at,resolved_at,agent_id,priority,channel,"
        "customer_id,reopens,escalated,due_at,csat"
    ]
    for i, moment in enumerate(_moments(rng)[::3]):
        created = _at(moment)
        first = created + dt.timedelta(hours=rng.choice([1, 5, 26])) if rng.random() > 0.1 else None
        resolved = (
            created + dt.timedelta(days=rng.choice([0.5, 2, 9])) if rng.random() > 0.3 else None
        )
        due = created + dt.timedelta(days=rng.choice([1, 3])) if rng.random() > 0.1 else None
        text = _written
        lines.append(
            f"T{i:05d},{text(created)},{text(first)},{text(resolved)},{rng.choice(AGENTS)},"
            f"normal,email,K{rng.randint(1, 9)},{rng.choice(['', 0, 1])},"
            f"{rng.choice(['true', 'false'])},{text(due)},{rng.choice(['', '2', '4', '5'])}"
        )
    return "\n".join(lines) + "\n"


def qa_csv(rng: random.Random) -> str:
    lines = [
        "evaluation_id,agent_id,evaluated_at,score,max_score,contact_id,interaction_at,"
        "evaluator_id,auto_fail,calibration_id,error_category,root_cause"
    ]
    moments = [m for m in _moments(rng) if "+" not in m][::4]
    calibrations = ["", "", "", "K1", "K2", "K2", "K3", "K3", "K3"]
    for i, moment in enumerate(moments):
        at = _at(moment)
        lines.append(
            f"E{i:05d},{rng.choice(AGENTS)},{moment},{rng.choice([70, 80, 80, 90, 100])},100,"
            f"C{i},{_written(at - dt.timedelta(hours=rng.choice([2, 47, 49])))},"
            f"Q1,{rng.choice(['false', 'false', 'true', ''])},{calibrations[i % len(calibrations)]},"
            f"{rng.choice(['product', 'process', 'none'])},{rng.choice(['', 'training', 'tools'])}"
        )
    return "\n".join(lines) + "\n"


def schedule_csv(rng: random.Random) -> str:
    lines = [
        "agent_id,date,scheduled_seconds,adherent_seconds,logged_in_seconds,handle_seconds,"
        "available_seconds,paid_seconds"
    ]
    for first in (dt.date(2026, 3, 23), dt.date(2026, 10, 19), dt.date(2026, 12, 21)):
        for day in range(21):
            for agent in AGENTS[:5]:
                s = rng.choice([0, 3600, 28800])
                lines.append(
                    f"{agent},{first + dt.timedelta(days=day)},{s},{int(s * 0.9)},"
                    f"{int(s * 0.95)},{int(s * 0.6)},{int(s * 0.2)},{s + 1800}"
                )
    return "\n".join(lines) + "\n"


def costs_csv(rng: random.Random) -> str:
    lines = ["date,team,amount"]
    for first in (dt.date(2026, 3, 23), dt.date(2026, 10, 19), dt.date(2026, 12, 21)):
        for day in range(21):
            for team in ("North", "South"):
                lines.append(f"{first + dt.timedelta(days=day)},{team},{rng.randint(900, 1100)}.5")
    return "\n".join(lines) + "\n"


def roster_csv() -> str:
    lines = ["agent_id,team"] + [f"{a},{TEAMS.get(a, '')}" for a in AGENTS]
    return "\n".join(lines) + "\n"


def write_project(root: Path, seed: int = 19) -> Path:
    """The adversarial project under `root`; returns its tpmkit.yaml."""
    rng = random.Random(seed)
    files = {
        "calls.csv": calls_csv(rng),
        "tickets.csv": tickets_csv(rng),
        "qa.csv": qa_csv(rng),
        "schedule.csv": schedule_csv(rng),
        "costs.csv": costs_csv(rng),
        "roster.csv": roster_csv(),
    }
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    sources = "\n".join(
        f"  {n}: {{path: {n}.csv}}" for n in ("calls", "tickets", "qa", "schedule", "costs")
    )
    yaml = f"name: edges\ntimezone: {ZONE}\nsources:\n{sources}\n  agents: {{path: roster.csv}}\ncache: false\n"
    path = root / "tpmkit.yaml"
    path.write_text(yaml, encoding="utf-8")
    return path
