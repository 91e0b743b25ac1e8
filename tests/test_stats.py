"""The exact Student-t quantile shared by the scorecard and the coaching effect (issue 20,
item 4). Expected values are tabulated quantiles, each checked independently before it was
written here: df 1 and 2 from their closed forms (tan π(p − ½); (2p − 1)·√(2 / (4p(1 − p))))
and the others by a 40-digit root of the incomplete-beta distribution function (mpmath)
and scipy.stats.t.ppf, which agree to every digit shown."""

from __future__ import annotations

import math

import pytest

from tpmkit.judge.evidence import Z95, t975
from tpmkit.stats import betainc, normal_quantile, t_cdf, t_quantile

TABLE = [
    (0.975, 1, 12.70620474),
    (0.975, 2, 4.30265273),
    (0.975, 5, 2.57058184),
    (0.975, 10, 2.22813885),
    (0.975, 11, 2.20098516),
    (0.975, 30, 2.04227246),
    (0.975, 120, 1.97993041),
    (0.975, 1000, 1.96233908),
    # the brief quoted 2.75000241 here; that is not the quantile: P(T ≤ 2.75000241)
    # with 30 df is 0.99500008. The 0.995 quantile is 2.74999565 (tables round it to 2.750)
    (0.995, 30, 2.74999565),
    (0.95, 5, 2.01504837),
    (0.9, 3, 1.63774435),
    # fractional degrees of freedom, as a Welch–Satterthwaite interval produces
    (0.975, 2.5, 3.57465484),
    (0.975, 7.3, 2.34506674),
    (0.975, 0.5, 164.55767348),
]


@pytest.mark.parametrize(("p", "df", "expected"), TABLE)
def test_t_quantile_matches_tables_to_8_digits(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, abs=5e-9)
    assert t_quantile(1 - p, df) == pytest.approx(-expected, abs=5e-9)  # symmetric


def test_closed_forms_for_one_and_two_degrees_of_freedom():
    for p in (0.6, 0.9, 0.975, 0.999, 0.99999):
        assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-10)
        two = (2 * p - 1) * math.sqrt(2 / (4 * p * (1 - p)))
        assert t_quantile(p, 2) == pytest.approx(two, rel=1e-10)


def test_quantile_inverts_the_distribution_function():
    # (beyond 1e5 df the quantile uses Fisher's expansion and the CDF is only good to 1e-9)
    for df in (1, 1.7, 4, 29.5, 300, 5e4, 1e5):
        for p in (0.001, 0.3, 0.8, 0.975):
            q = t_quantile(p, df)
            assert t_cdf(q, df) == pytest.approx(p, abs=1e-12)


def test_large_degrees_of_freedom_tend_to_the_normal_quantile():
    assert normal_quantile(0.975) == pytest.approx(1.959963984540054, abs=1e-14)
    assert t_quantile(0.975, math.inf) == normal_quantile(0.975)
    # 1e5 is where the expansion takes over: both sides of it agree
    assert t_quantile(0.975, 99_999.0) == pytest.approx(t_quantile(0.975, 1e5), abs=1e-9)
    assert t_quantile(0.975, 1e12) == pytest.approx(Z95, abs=1e-11)


def test_incomplete_beta_against_closed_forms():
    # I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 − (1 − x)^b
    assert betainc(1, 1, 0.3) == pytest.approx(0.3, abs=1e-15)
    assert betainc(2.5, 1, 0.4) == pytest.approx(0.4**2.5, abs=1e-15)
    assert betainc(1, 3.5, 0.2) == pytest.approx(1 - 0.8**3.5, abs=1e-15)
    assert betainc(3, 2, 0.0) == 0.0 and betainc(3, 2, 1.0) == 1.0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        t_quantile(1.0, 5)
    with pytest.raises(ValueError):
        t_quantile(0.5, 0)
    assert t975(0) == math.inf  # one row: no spread, an unbounded interval


def test_scorecard_quantile_is_the_exact_one():
    # Cornish–Fisher gave 2.1990 at 11 df (0.1 % narrower than the exact 2.2010)
    assert t975(11) == pytest.approx(2.20098516, abs=5e-9)
    assert t975(1) == pytest.approx(12.70620474, abs=5e-9)
