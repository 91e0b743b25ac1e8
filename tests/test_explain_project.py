"""`Project.explain` on a generated project (one team's talk time raised in one week),
the bundled example, `Evaluation.explain`, and the top driver on `check` lines."""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

import pytest

import tpmkit
from tpmkit.explain import driver, summary, top_driver

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"

PROJECT = """
name: Raised
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
TALK = """
id: talk
name: Talk time
unit: seconds
direction: lower_is_better
owner: team_lead
dataset: calls
compute: {kind: mean, expr: talk_seconds, where: answered}
thresholds: {warning: 320, critical: 330}  # W10 ~300 s, W11 ~340 s
min_sample: 5
"""
TEAMS = {"Red": "Berlin", "Blue": "Berlin", "Green": "Lisbon"}
AGENTS = {f"{team[0]}{i}": team for team in TEAMS for i in range(1, 5)}  # 4 agents a team


def calls_csv(raised: str = "Blue", by: float = 120.0) -> str:
    """Two weeks (2026-W10, W11) and the Monday of W12; every agent takes 20 to 40 calls a
    week at talk times around 300 s; `raised`'s calls take `by` seconds longer in W11."""
    rng = random.Random(16)
    header = "contact_id,offered_at,agent_id,queue,channel,skill,answered,wait_seconds,talk_seconds"
    lines = [header]
    days = [dt.date(2026, 3, 2) + dt.timedelta(days=d) for d in range(15)]
    number = 0
    for day in days:
        week11 = dt.date(2026, 3, 9) <= day < dt.date(2026, 3, 16)
        for agent, team in AGENTS.items():
            for _ in range(rng.randint(3, 6)):
                number += 1
                talk = rng.gauss(300, 40) + (by if week11 and team == raised else 0.0)
                queue = rng.choice(["Billing", "Tech"])
                channel = rng.choice(["voice", "chat"])
                skill = f"{channel}-{queue}"
                lines.append(
                    f"c{number},{day} {rng.randint(8, 17):02d}:00:00,{agent},{queue},{channel},"
                    f"{skill},Y,10,{talk:.1f}"
                )
    return "\n".join(lines) + "\n"


def roster_csv() -> str:
    rows = [f"{agent},{team},{TEAMS[team]}" for agent, team in AGENTS.items()]
    return "agent_id,team,site\n" + "\n".join(rows) + "\n"


@pytest.fixture
def raised(make):
    path = make.project(
        PROJECT,
        metrics={"talk": TALK},
        files={"calls.csv": calls_csv(), "roster.csv": roster_csv()},
    )
    return tpmkit.load(path)


NOW = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)


def test_explain_names_the_raised_team_first_and_adds_up_to_evaluates_difference(raised):
    found = raised.explain("talk", now=NOW, cache=False)
    assert (found.before_period, found.after_period) == ("2026-W10", "2026-W11")
    best = found.best
    assert best is not None and best.dimensions == ("team",)
    assert best.top is not None and best.top.label == "Blue"
    assert best.top.main_effect == "rate"
    assert "mostly rate" in summary(found) and "top segment Blue" in summary(found)
    weekly = raised.evaluate("talk", period="week", cache=False).records
    values = dict(weekly.select("period", "value").iter_rows())
    change = values["2026-W11"] - values["2026-W10"]
    assert found.change == pytest.approx(change, rel=1e-12)
    for d in found.decompositions:  # every dimension adds up to the same change
        assert d.change == pytest.approx(change, rel=1e-12)
        assert math.isclose(d.explained, change, rel_tol=1e-9)
    searched = {d.dimensions[0] for d in found.decompositions}
    assert searched == {"site", "team", "queue", "channel", "agent_id"}
    assert set(found.skipped) == {"vendor", "line_of_business", "tenure_band"}
    top = driver(found)
    assert top is not None and top.segment == "Blue" and top.dimension == "team"


def test_the_projects_own_dimensions_are_searched_too(make):
    path = make.project(
        PROJECT + "explain: {dimensions: [skill, skils]}\n",
        metrics={"talk": TALK},
        files={"calls.csv": calls_csv(), "roster.csv": roster_csv()},
    )
    found = tpmkit.load(path).explain("talk", at="2026-W11", cache=False)
    skill = [d for d in found.decompositions if d.dimensions == ("skill",)]
    assert skill and {s.label for s in skill[0].segments} == {
        "voice-Billing",
        "voice-Tech",
        "chat-Billing",
        "chat-Tech",
    }
    assert "has a column `skils`" in found.skipped["skils"]


def test_drill_follows_the_top_segment_down(raised):
    found = raised.explain("talk", by="site", at="2026-W11", drill=True, cache=False)
    assert [d.dimensions for d in found.decompositions] == [("site",)]
    assert found.best is not None and found.best.top is not None
    assert found.best.top.label == "Berlin"
    assert [(d.within, d.dimensions) for d in found.drill] == [
        ({"site": "Berlin"}, ("team",)),
        ({"site": "Berlin", "team": "Blue"}, ("agent_id",)),
    ]
    assert found.drill[0].top is not None and found.drill[0].top.label == "Blue"
    assert found.drill[1].top is not None and found.drill[1].top.label.startswith("B")


def test_vs_a_label_and_unknown_inputs(raised):
    found = raised.explain("talk", at="2026-W12", vs="2026-W10", by=["team"], cache=False)
    assert (found.before_period, found.after_period) == ("2026-W10", "2026-W12")
    with pytest.raises(tpmkit.UsageError, match="did you mean `talk`"):
        raised.explain("tallk", cache=False)
    with pytest.raises(tpmkit.UsageError, match="did you mean `team`"):
        raised.explain("talk", by="tem", at="2026-W11", cache=False)
    with pytest.raises(tpmkit.UsageError, match="did you mean `2026-W10`"):
        raised.explain("talk", at="2026-W11", vs="W10", cache=False)
    with pytest.raises(tpmkit.UsageError, match=r"no `baseline\.as_of`"):
        raised.explain("talk", at="2026-W11", vs="baseline", cache=False)
    with pytest.raises(tpmkit.UsageError, match="first period"):
        raised.explain("talk", at="2026-W10", cache=False)
    with pytest.raises(tpmkit.UsageError, match="not all"):
        raised.explain("talk", period="all", cache=False)


def test_evaluation_explain_uses_its_own_grouping(raised):
    ev = raised.evaluate("talk", by="team", cache=False)
    d = ev.explain("talk", at="2026-W11")
    assert d.dimensions == ("team",) and d.before_period == "2026-W10"
    assert d.top is not None and d.top.label == "Blue"
    assert math.isclose(d.explained, d.change or 0.0, rel_tol=1e-9)
    with pytest.raises(tpmkit.UsageError, match="evaluate with by="):
        raised.evaluate("talk", cache=False).explain("talk")


def test_top_driver_takes_evaluations_by_dimension(raised):
    evaluations = [raised.evaluate("talk", by=dim, cache=False) for dim in ("site", "team")]
    driver = top_driver(evaluations, "talk", "2026-W10", "2026-W11")
    assert driver is not None
    assert (driver.dimension, driver.segment, driver.kind) == ("team", "Blue", "rate")
    assert driver.text.startswith("talk +") and ": Blue +" in driver.text
    # within a judged group: Blue's change by its agents
    by_agent = raised.evaluate("talk", by=["team", "agent_id"], cache=False)
    inside = top_driver([by_agent], "talk", "2026-W10", "2026-W11", group={"team": "Blue"})
    assert inside is not None and inside.dimension == "agent_id"
    assert inside.group == {"team": "Blue"} and inside.segment.startswith("B")


def test_check_lines_carry_the_top_driver(raised):
    from tpmkit.render import ci

    result = raised.check(["talk"], at="2026-W11", cache=False)
    (verdict,) = [v for v in result.verdicts if not v.group]
    assert verdict.status == "critical"
    assert verdict.driver is not None and verdict.driver.startswith("talk +")
    assert ": Blue +" in verdict.driver and verdict.driver.endswith("(rate)")
    line = ci.lines(result)[0]
    assert line.startswith("FAIL talk 2026-W11") and f"why: {verdict.driver}" in line
    quiet = raised.check(["talk"], at="2026-W11", cache=False, why=False)
    assert all(v.driver is None for v in quiet.verdicts)


def test_a_breaching_groups_driver_is_one_level_down(raised):
    result = raised.check(["talk"], at="2026-W11", by=["team"], cache=False)
    (blue,) = [v for v in result.verdicts if v.group == {"team": "Blue"}]
    assert blue.status == "critical" and blue.driver is not None
    # Blue's own change (~ +120 s), its top agent's share of it
    assert blue.driver.startswith("talk +") and ": B" in blue.driver
    assert blue.driver.endswith("(rate)")
    assert all(v.driver is None for v in result.verdicts if v.group in ({"team": "Red"},))


def test_the_bundled_example_names_berlin_tech_for_aht():
    project = tpmkit.load(EXAMPLE)
    found = project.explain("aht", at="2026-W46", by=["site", "team", "queue", "channel"])
    top = driver(found)
    assert top is not None and top.segment == "Berlin Tech"
    assert top.dimension == "team"
    for d in found.decompositions:
        assert math.isclose(d.explained, found.change or 0.0, rel_tol=1e-9)


def test_vs_baseline_compares_with_the_week_of_baseline_as_of():
    # the example's AHT baseline is as of 2026-08-17, the Monday of 2026-W34
    project = tpmkit.load(EXAMPLE)
    found = project.explain("aht", at="2026-W46", vs="baseline", by="team")
    assert (found.before_period, found.after_period) == ("2026-W34", "2026-W46")
    weekly = dict(project.evaluate("aht").records.select("period", "value").iter_rows())
    assert found.change == pytest.approx(weekly["2026-W46"] - weekly["2026-W34"], rel=1e-12)
    (d,) = found.decompositions
    assert math.isclose(d.explained, found.change or 0.0, rel_tol=1e-9)
