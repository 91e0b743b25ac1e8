"""A small project for `time_to_proficiency` whose Kaplan–Meier medians are worked out
by hand (tests/test_engines_proficiency.py): two teams, agents hired inside the data,
a veteran per team who sets the weekly median, a week below `min_contacts`, unanswered
calls left out, an agent never proficient (censored), and the DST change of 2026-03-29
inside the data (Europe/Berlin).

Weekly mean handle time per agent (two answered calls each, unless said; weeks start on
Monday, min_contacts 2), and the team's median of the counted means:

    North     V (2025)  N1 (03-02)  N2 (03-02)  N3 (03-09)     median   proficient
    03-02       300        400         500          -            400    N1
    03-09       300        350         450         600           400    N1
    03-16       300        350         320     100 (1 call)      320    N2 (N3 not counted)
    South     W (2025)  S1 (03-16)
    03-16       200        250                                   225    -
    03-23       200        200                                   200    S1 (DST week)

Weeks to proficiency (end of the first proficient week − hire date): N1 1.0, N2 3.0,
S1 2.0; N3 is censored at the end of its last week with data (03-23): 2.0.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

ROSTER = {  # agent -> (team, hire date)
    "V": ("North", "2025-01-06"),
    "N1": ("North", "2026-03-02"),
    "N2": ("North", "2026-03-02"),
    "N3": ("North", "2026-03-09"),
    "W": ("South", "2025-01-06"),
    "S1": ("South", "2026-03-16"),
}
WEEKS = {  # Monday -> {agent: (mean handle time, answered calls)}
    "2026-03-02": {"V": (300, 2), "N1": (400, 2), "N2": (500, 2)},
    "2026-03-09": {"V": (300, 2), "N1": (350, 2), "N2": (450, 2), "N3": (600, 2)},
    "2026-03-16": {"V": (300, 2), "N1": (350, 2), "N2": (320, 2), "N3": (100, 1)}
    | {"W": (200, 2), "S1": (250, 2)},
    "2026-03-23": {"W": (200, 2), "S1": (200, 2)},
}
# (grain, by) -> {(period, group…): (value, n)}, by hand from the table above
EXPECTED = {
    # month: all four hires in March; KM: 1.0 (1 of 4) S=3/4; 2.0 (S1 of 3 at risk, N3
    # censored) S=1/2 -> median 2.0
    ("month", ()): {("2026-03",): (2.0, 4)},
    # North: 1.0 (1 of 3) S=2/3; 2.0 censored; 3.0 (1 of 1) S=0 -> 3.0. South: S1 alone.
    ("month", ("team",)): {("2026-03", "North"): (3.0, 3), ("2026-03", "South"): (2.0, 1)},
    # by week of hire: N1 and N2 (1.0 then S=1/2 -> 1.0); N3 alone, censored (no value);
    # S1 alone
    ("week", ()): {
        ("2026-W10",): (1.0, 2),
        ("2026-W11",): (None, 1),
        ("2026-W12",): (2.0, 1),
    },
}
METRIC = """id: ttp
name: Time to proficiency
unit: weeks
direction: lower_is_better
dataset: calls
compute:
  kind: time_to_proficiency
  where: "answered"
  expr: "coalesce(talk_seconds, 0) + coalesce(hold_seconds, 0) + coalesce(acw_seconds, 0)"
  at: offered_at
  min_contacts: 2
optional_columns: [hold_seconds, acw_seconds]
"""


def write_cohorts(root: Path) -> Path:
    """The project under `root`; returns its tpmkit.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "metrics").mkdir(exist_ok=True)
    (root / "metrics" / "ttp.yaml").write_text(METRIC, encoding="utf-8")
    lines = ["contact_id,offered_at,answered,wait_seconds,agent_id,talk_seconds"]
    number = 0
    for monday, agents in WEEKS.items():
        start = dt.date.fromisoformat(monday)
        for agent, (mean, calls) in agents.items():
            for i in range(calls):  # two calls on Monday and Sunday, mean apart by ±10
                day = start + dt.timedelta(days=0 if i == 0 else 6)
                talk = mean if calls == 1 else mean + (10 if i == 0 else -10)
                number += 1
                lines.append(f"C{number:04d},{day} 10:00:00,true,5,{agent},{talk}")
            number += 1  # an unanswered call with a long talk time: left out by `where`
            lines.append(
                f"C{number:04d},{start + dt.timedelta(days=2)} 11:00:00,false,90,{agent},9999"
            )
    (root / "calls.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    roster = ["agent_id,team,hire_date"] + [f"{a},{t},{h}" for a, (t, h) in ROSTER.items()]
    (root / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
    yaml = (
        "name: cohorts\ntimezone: Europe/Berlin\nmetrics: [metrics/]\nsources:\n"
        "  calls: {path: calls.csv}\n  agents: {path: roster.csv}\ncache: false\n"
    )
    path = root / "tpmkit.yaml"
    path.write_text(yaml, encoding="utf-8")
    return path


def parquet_cohorts(root: Path) -> Path:
    """The same project with its two datasets as typed Parquet files, as tpmkit's reader
    makes them (read and checked by DuckDB itself on the DuckDB engine); its tpmkit.yaml."""
    import polars as pl

    from tpmkit.data import load_dataset
    from tpmkit.project import load

    csv = write_cohorts(root / "csv")
    spec = load(csv).definitions.spec
    for name, file in (("calls", "calls"), ("agents", "roster")):
        frame = load_dataset(name, spec.sources[name], csv.parent, spec.timezone).frame
        if name == "calls":  # an export that has them (absent, the evaluation adds them)
            frame = frame.with_columns(hold_seconds=pl.lit(0.0), acw_seconds=pl.lit(0.0))
        frame.write_parquet(csv.parent / f"{file}.parquet")
    path = csv.parent / "tpmkit-parquet.yaml"
    text = csv.read_text(encoding="utf-8").replace(".csv}", ".parquet}")
    path.write_text(text, encoding="utf-8")
    return path
