"""`tpmkit coaching` and Project.coaching on a generated project (tests/coaching_fixture.py):
one coach's agents lose 60 s of AHT after their sessions, the other coach's do not."""

from __future__ import annotations

import pytest

import tpmkit
from coaching_fixture import make_project


@pytest.fixture
def result(make):
    return tpmkit.load(make_project(make)).coaching(metric="aht")


def test_the_working_coach_improves_by_about_60_seconds(result):
    ana = next(c for c in result.coaches if c.name == "Ana")
    assert ana.sessions == 4 and ana.agents == 4
    assert ana.estimate.verdict == "improved"
    assert ana.estimate.effect == pytest.approx(-60, abs=12)
    assert ana.estimate.high < 0
    # the effect held 8 weeks later (the data run 20 weeks, the session is in week 6)
    assert ana.held is not None and ana.held.verdict == "improved"


def test_the_other_coach_is_not_improved(result):
    ben = next(c for c in result.coaches if c.name == "Ben")
    assert ben.sessions == 4  # their sessions name no metric: --metric aht applies
    assert ben.estimate.verdict != "improved"
    assert ben.estimate.low < 0 < ben.estimate.high  # the interval straddles 0
    assert abs(ben.estimate.effect) < 15


def test_sessions_and_topics(result):
    sessions = {s.session_id: s for s in result.sessions}
    assert len(sessions) == 8
    for s in result.sessions:
        assert s.comparison == "team"
        # before: 4 weeks × 40 calls; the comparison: the team's 4 uncoached agents
        assert (s.before.n, s.after.n) == (160, 160)
        assert (s.comparison_before.n, s.comparison_after.n) == (640, 640)
        assert s.estimate.df is None  # every part has 30 rows or more: the normal quantile
    ana_sessions = [s for s in result.sessions if s.coach == "Ana"]
    assert all(s.estimate.verdict == "improved" for s in ana_sessions)
    topics = {t.name: t for t in result.topics}
    assert topics["call control"].estimate.verdict == "improved"
    assert topics["empathy"].estimate.verdict != "improved"


def test_one_session_recomputed_from_the_raw_rows(result):
    """Session k1 (agent n1, Wednesday of week 6) from the generated calls with Python's
    statistics module: weeks 2-5 before, 7-10 after, the comparison n5..n8 (North's
    uncoached agents) over the same weeks; variance of each mean s²/n, summed."""
    import datetime as dt
    import math
    import statistics

    from coaching_fixture import FIRST_MONDAY, calls_csv

    rows = [line.split(",") for line in calls_csv().splitlines()[1:]]

    def talk(agents, weeks):
        out = []
        for _, at, _, _, value, agent in rows:
            week = (dt.date.fromisoformat(at[:10]) - FIRST_MONDAY).days // 7
            if agent in agents and week in weeks:
                out.append(float(value))
        return out

    before, after = range(2, 6), range(7, 11)
    comparison = {"n5", "n6", "n7", "n8"}
    parts = [
        talk({"n1"}, before),
        talk({"n1"}, after),
        talk(comparison, before),
        talk(comparison, after),
    ]
    means = [statistics.fmean(p) for p in parts]
    effect = (means[1] - means[0]) - (means[3] - means[2])
    half = 1.959963984540054 * math.sqrt(sum(statistics.variance(p) / len(p) for p in parts))
    k1 = next(s for s in result.sessions if s.session_id == "k1")
    assert k1.estimate.effect == pytest.approx(effect, abs=1e-9)
    assert k1.estimate.low == pytest.approx(effect - half, abs=1e-9)
    assert k1.estimate.high == pytest.approx(effect + half, abs=1e-9)


def test_effect_arithmetic_by_hand():
    from tpmkit.coaching.effect import did, mean_part, over_agents, share_part
    from tpmkit.coaching.model import Part

    # 4 values summing to 10 with squares 30: mean 2.5, s² = (30 − 4 × 6.25) / 3 = 5/3
    assert mean_part(4, 10.0, 30.0) == Part(2.5, 4, pytest.approx(5 / 12))
    # a share of 0 of 10 uses (0 + 2) / (10 + 4) = 1/7 for its spread, in percent²
    assert share_part(10, 0.0, 100.0) == Part(0.0, 10, pytest.approx(1 / 7 * 6 / 7 / 10 * 1e4))
    # small parts: Welch–Satterthwaite df = 2.5² / (1²/4 + 1²/4 + 2 × 0.25²/99) = 12.4685…
    # and t(0.975, 12.4685) = 2.16976717 (scipy.stats.t.ppf agrees to every digit)
    estimate = did(
        Part(10.0, 5, 1.0),
        Part(7.0, 5, 1.0),
        Part(10.0, 100, 0.25),
        Part(10.5, 100, 0.25),
        lower_is_better=True,
        min_sample=5,
        is_mean=True,
    )
    assert estimate.effect == pytest.approx(-3.5)
    assert estimate.df == pytest.approx(12.46851385)
    assert (estimate.low, estimate.high) == (
        pytest.approx(-6.93070312, abs=1e-8),
        pytest.approx(-0.06929688, abs=1e-8),
    )
    assert estimate.verdict == "improved"
    # the same change on a higher-is-better metric is worse
    worse = did(
        Part(10.0, 5, 1.0),
        Part(7.0, 5, 1.0),
        Part(10.0, 100, 0.25),
        Part(10.5, 100, 0.25),
        lower_is_better=False,
        min_sample=5,
        is_mean=True,
    )
    assert worse.verdict == "worsened"
    # a part under min_sample: insufficient_sample, with the reason
    short = did(
        Part(10.0, 4, 1.0),
        Part(7.0, 5, 1.0),
        Part(10.0, 100, 0.25),
        Part(10.5, 100, 0.25),
        lower_is_better=True,
        min_sample=5,
        is_mean=True,
    )
    assert short.verdict == "insufficient_sample" and "before 4" in (short.reason or "")
    # agents as the unit: mean −57.5, sd 5.2599, t(0.975, 3) = 3.18244631
    agents = over_agents([-50.0, -62.0, -58.0, -60.0], lower_is_better=True)
    assert agents.effect == pytest.approx(-57.5)
    assert (agents.low, agents.high) == (
        pytest.approx(-65.86969261, abs=1e-8),
        pytest.approx(-49.13030739, abs=1e-8),
    )
    assert over_agents([-50.0], lower_is_better=True).verdict == "insufficient_sample"


def test_no_coaching_source_is_a_located_usage_error(make):
    from coaching_fixture import PROJECT, agents, calls_csv
    from tpmkit.errors import UsageError

    text = PROJECT.replace("  coaching: {path: coaching.csv}\n", "")
    roster = "agent_id,team\n" + "".join(f"{a},{t}\n" for a, t in agents())
    path = make.project(text, files={"calls.csv": calls_csv(), "agents.csv": roster})
    with pytest.raises(UsageError, match="no coaching log"):
        tpmkit.load(path).coaching(metric="aht")


def test_a_metric_that_is_not_a_mean_or_share_is_refused(make):
    from tpmkit.errors import UsageError

    with pytest.raises(UsageError, match="mean or a share"):
        tpmkit.load(make_project(make)).coaching(metric="contacts_handled")


def test_unknown_coach_names_the_known_ones(make):
    from tpmkit.errors import UsageError

    with pytest.raises(UsageError, match="coach Zed") as raised:
        tpmkit.load(make_project(make)).coaching(metric="aht", coach="Zed")
    assert "Ana, Ben" in raised.value.issues[0].message


def test_coach_filter_and_without_metric(make):
    loaded = tpmkit.load(make_project(make))
    only_ana = loaded.coaching(coach="ana")  # case does not matter
    assert {s.coach for s in only_ana.sessions} == {"Ana"}
    everyone = loaded.coaching()  # Ben's sessions name no metric: left out, with a note
    assert {s.coach for s in everyone.sessions} == {"Ana"}
    assert any("`tpmkit coaching --metric ID` analyses them" in n for n in everyone.notes)


def test_cli_table_json_markdown(make):
    import json

    from typer.testing import CliRunner

    from tpmkit.cli.app import app

    path = make_project(make)
    runner = CliRunner()
    base = ["coaching", "--project", str(path), "--metric", "aht"]
    table = runner.invoke(app, [*base, "--wide"])
    assert table.exit_code == 0, table.output
    assert "Ana" in table.output and "improved" in table.output
    as_json = runner.invoke(app, [*base, "--format", "json", "--quiet"])
    found = json.loads(as_json.stdout)
    ana = next(c for c in found["coaches"] if c["name"] == "Ana")
    assert ana["estimate"]["verdict"] == "improved"
    assert len(found["sessions"]) == 8 and found["window_weeks"] == 4
    markdown = runner.invoke(app, [*base, "--format", "markdown", "--coach", "Ben"])
    assert markdown.exit_code == 0
    # Ben's sessions name no metric: the table says so once, at its end (it was said on
    # stderr too, so twice on a terminal: review of issue 20)
    untargeted = runner.invoke(app, ["coaching", "--project", str(path)])
    assert untargeted.output.count("session(s) name no metric") == 1
    assert "### By coach" in markdown.stdout and "| Ben |" in markdown.stdout
    # a bad flag value: exit 2 with the flag named, no traceback
    wrong = runner.invoke(app, [*base, "--coach", "Zed"])
    assert wrong.exit_code == 2
    assert "--coach Zed" in wrong.output and "Traceback" not in wrong.output
    wrong = runner.invoke(app, ["coaching", "--project", str(path), "--metric", "backlog"])
    assert wrong.exit_code == 2 and "--metric backlog" in wrong.output


def test_a_team_without_uncoached_agents_is_compared_with_the_operation(make):
    from coaching_fixture import coaching_csv

    path = make_project(make)
    # every North agent coached the same day: no uncoached teammate is left
    extra = "".join(f"x{i},n{i},2026-02-18 15:00:00,Ana,aht,call control\n" for i in range(5, 9))
    (path.parent / "coaching.csv").write_text(coaching_csv() + extra, encoding="utf-8")
    result = tpmkit.load(path).coaching(metric="aht")
    north = [s for s in result.sessions if s.team == "North"]
    assert north and all(s.comparison == "operation" for s in north)
    # the operation's uncoached agents: s5..s8 (South), 4 weeks × 40 calls each
    assert all(s.comparison_before.n == 640 for s in north)
    assert any("whole operation" in n and "k1" in n for n in result.notes)
    assert all(s.comparison == "team" for s in result.sessions if s.team == "South")


def test_the_log_may_be_given_as_a_frame(make):
    import polars as pl

    from coaching_fixture import coaching_csv

    loaded = tpmkit.load(make_project(make))
    rows = [line.split(",") for line in coaching_csv().strip().splitlines()]
    frame = pl.DataFrame([dict(zip(rows[0], r, strict=True)) for r in rows[1:]])
    result = loaded.coaching(metric="aht", data={"coaching": frame})
    assert len(result.sessions) == 8


def test_every_non_verdict_says_why_in_a_trainers_words(make):
    """Issue 20 review: sessions that cannot be estimated, a coach with one session and a
    held effect the data do not reach each carry a reason, in the table and in JSON."""
    from coaching_fixture import coaching_csv
    from tpmkit.render.coaching_table import session_rows, summary_rows

    path = make_project(make)
    (path.parent / "agents.csv").write_text(
        (path.parent / "agents.csv").read_text(encoding="utf-8") + "r1,North\n", encoding="utf-8"
    )
    extra = (
        # a typo in the log: no such agent anywhere
        "u1,zz9,2026-02-18 14:00:00,Cy,aht,call control\n"
        # in the roster, never on the phones
        "u2,r1,2026-02-18 14:00:00,Cy,aht,call control\n"
        # on the phones, but not in the 4 weeks either side of a session in October 2025
        "u3,n5,2025-10-01 14:00:00,Cy,aht,call control\n"
        # week 13 (2026-04-06): the after-window (weeks 14-17) is in the data, the held
        # window (weeks 22-25) is not: the data end in week 19, 2026-W21
        "u4,s5,2026-04-08 14:00:00,Dee,aht,call control\n"
    )
    (path.parent / "coaching.csv").write_text(coaching_csv() + extra, encoding="utf-8")
    result = tpmkit.load(path).coaching(metric="aht")
    sessions = {s.session_id: s for s in result.sessions}
    reasons = {k: sessions[k].estimate.reason for k in ("u1", "u2", "u3")}
    assert reasons == {
        "u1": "unknown agent zz9 (not in the roster or the calls)",
        "u2": "r1 has no calls for aht at all",
        # the session's week is 2025-W40: the windows are 2025-W36 … 2025-W44
        "u3": "n5 has no calls in the window (2025-W36 – 2025-W44)",
    }
    for key in ("u1", "u2", "u3"):
        assert sessions[key].estimate.verdict == "insufficient_sample"
        assert sessions[key].held is None
        assert sessions[key].held_reason == "no effect to follow up"
    held = sessions["u4"]
    assert held.estimate.verdict != "insufficient_sample" and held.estimate.effect is not None
    assert held.held is None and held.held_reason == "not reached (data end 2026-W21)"
    rows = {r["session"]: r for r in session_rows(result.sessions, "seconds")}
    assert rows["u1"]["verdict"] == "unknown agent zz9 (not in the roster or the calls)"
    assert rows["u1"]["effect"] == "—" and rows["u1"]["95% interval"] == "—"
    assert rows["u4"]["held at 8 weeks"] == "not reached (data end 2026-W21)"
    # Dee coached once: her agent's effect, never an interval
    dee = next(c for c in result.coaches if c.name == "Dee")
    assert (dee.sessions, dee.agents) == (1, 1)
    assert dee.estimate.effect == pytest.approx(held.estimate.effect)
    assert dee.estimate.low is None and dee.estimate.high is None
    assert dee.estimate.reason == "no interval: 1 agent (needs 2)"
    assert dee.held_reason == "not reached (data end 2026-W21)"
    cells = {r["name"]: r for r in summary_rows(result.coaches, "seconds")}
    assert cells["Dee"]["95% interval"] == "—"
    assert cells["Dee"]["verdict"] == "no interval: 1 agent (needs 2)"
    assert cells["Dee"]["held at 8 weeks"] == "not reached (data end 2026-W21)"
    # Cy's three sessions have no effect at all
    assert cells["Cy"]["verdict"] == "no agent with an effect"
    assert cells["Cy"]["held at 8 weeks"] == "no effect to follow up"
    # Ana's sessions reach the held window: a held effect, no reason
    ana = next(c for c in result.coaches if c.name == "Ana")
    assert ana.held is not None and ana.held_reason is None
    # no session without an effect is said to be compared with the whole operation
    assert not any("u1" in n or "u2" in n or "u3" in n for n in result.notes)
    found = result.to_dict()
    by_id = {s["session_id"]: s for s in found["sessions"]}
    assert by_id["u4"]["held"] is None
    assert by_id["u4"]["held_reason"] == "not reached (data end 2026-W21)"
