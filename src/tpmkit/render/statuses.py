"""How each status looks in every output — the one place for its word, icon, colour and
style: the terminal (rich styles), Markdown and plain text (words and icons), and the
HTML report and its SVG charts (CSS custom properties, badge classes, point fills and
shapes). Status is never shown by colour alone: every renderer puts the icon or word
beside it.

Also the few other judged words the renderers share: trends, scorecard evidence marks
and goal statuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tpmkit.vocabulary import Status, Trend

Marker = Literal["circle", "triangle", "square"]


@dataclass(frozen=True)
class StatusLook:
    """One status in every renderer."""

    status: Status
    word: str  # reports (HTML and Markdown): "No data"
    label: str  # the terminal table's status column, beside the icon
    phrase: str  # plain-text lines (CI logs, counts): "no data"
    icon: str  # beside the word wherever a status is shown
    style: str  # rich style in the terminal
    colour: str  # HTML badges and card borders, SVG point fills
    css_var: str  # the CSS custom property that holds `colour` in the HTML report
    marker: Marker  # the SVG point's shape

    @property
    def css_class(self) -> str:
        """The HTML badge class, e.g. `s-no_data`."""
        return f"s-{self.status.value}"


# keyed by `Status`, in its order; a member is its string, so a record's plain string finds it
LOOKS: dict[str, StatusLook] = {
    look.status: look
    for look in (
        StatusLook(
            status=Status.OK,
            word="OK",
            label="ok",
            phrase="ok",
            icon="✓",
            style="green",
            colour="#2e7d32",
            css_var="ok",
            marker="circle",
        ),
        StatusLook(
            status=Status.WARNING,
            word="Warning",
            label="warning",
            phrase="warning",
            icon="▲",
            style="yellow",
            colour="#b26a00",
            css_var="warning",
            marker="triangle",
        ),
        StatusLook(
            status=Status.CRITICAL,
            word="Critical",
            label="critical",
            phrase="critical",
            icon="✖",
            style="bold red",
            colour="#c62828",
            css_var="critical",
            marker="square",
        ),
        StatusLook(
            status=Status.NO_DATA,
            word="No data",
            label="no_data",
            phrase="no data",
            icon="∅",
            style="dim",
            # #616161, not the charts' old #757575: white badge text on it keeps a 6:1 contrast
            # (no-data points carry no value, so no chart ever drew the old grey)
            colour="#616161",
            css_var="nodata",
            marker="circle",
        ),
        StatusLook(
            status=Status.INSUFFICIENT_SAMPLE,
            word="Small sample",
            label="too few",
            phrase="insufficient sample",
            icon="?",
            style="magenta",
            colour="#6a1b9a",
            css_var="small",
            marker="circle",
        ),
        StatusLook(
            status=Status.NOT_JUDGED,
            word="Not judged",
            label="not judged",
            phrase="not judged",
            icon="○",  # an empty circle: shown, deliberately not judged (no data is ∅)
            style="dim italic",
            # blue-grey, told apart from no data's grey; white text on it keeps 5.6:1
            colour="#546e7a",
            css_var="notjudged",
            marker="circle",
        ),
    )
}


def look(status: str) -> StatusLook:
    """The look of a status, given as a `Status` or as the string in a record."""
    return LOOKS[Status(status)]


def status_word(status: str | None) -> str:
    """A status's word in a report (`No data`); any other value as it is."""
    if status is None or status not in LOOKS:
        return str(status)
    return LOOKS[status].word


def css_variables() -> str:
    """The status colours as CSS custom properties, e.g. `--ok:#2e7d32; …`."""
    return " ".join(f"--{s.css_var}:{s.colour};" for s in LOOKS.values())


def css_badges(per_line: int = 3, indent: str = "  ") -> str:
    """A badge class per status that paints its background with the status colour."""
    rules = [f".{s.css_class} {{ background: var(--{s.css_var}); }}" for s in LOOKS.values()]
    lines = [" ".join(rules[i : i + per_line]) for i in range(0, len(rules), per_line)]
    return ("\n" + indent).join(lines)


TREND_WORDS: dict[str, str] = {
    Trend.IMPROVING: "better",
    Trend.STABLE: "stable",
    Trend.WORSENING: "worse",
}
# scorecard evidence of a metric against its target (judge/scorecard.py)
EVIDENCE_MARKS: dict[str, str] = {
    "significantly_worse": "▼",
    "significantly_better": "▲",
    "not_enough_evidence": "?",
    "on_target": "",
}
# individual goals (judge/goals.py) in the terminal; others unstyled
GOAL_STYLES: dict[str, str] = {
    "behind": "yellow",
    "missed": "bold red",
    "met": "green",
    "on_track": "green",
}
