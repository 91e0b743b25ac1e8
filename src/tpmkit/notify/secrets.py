"""Cutting secrets out of a text that may hold them (Apprise's reasons, an exception's
message) before it is shown.

A secret can appear as written, URL-encoded (`p%40ss` for `p@ss`, upper- or lower-case
hex, `+` for a space) or decoded (a value given encoded in the environment, logged decoded
by Apprise). Every form of every secret is found in the original text first and the
places merged, so two secrets that overlap (`abcd` and `cdef` in `abcdef`) leave nothing
of either behind, and a shorter one inside a longer one cannot split it. A secret too short
to cut out safely — the gaps would spell it out in a known sentence, and it may be part of
ordinary words — withholds the whole text where it occurs.

Every URL in such a text is cut to its scheme first: Apprise writes its own shortened
forms of the tokens in a URL (`slack://s...N/s...N` for `s3cr3tTOKEN`), which no form of
the secret matches, and the target is named beside the reason by its masked URL anyway."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, unquote_plus

MASK = "…"
MIN_CUT = 8  # a secret shorter than this withholds the whole text instead of being cut
WITHHELD = "(the reason is withheld: it holds a secret too short to cut out)"

URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*)://[^\s'\"<>()\[\];,]*")

__all__ = ["MASK", "MIN_CUT", "URL", "WITHHELD", "forms", "pattern", "scrub"]


def forms(secret: str) -> set[str]:
    """The secret as given and decoded (a value given URL-encoded in the environment)."""
    return {f for f in (secret, unquote(secret), unquote_plus(secret)) if f}


def pattern(secret: str) -> re.Pattern[str]:
    """A pattern for `secret` with each character as is or URL-encoded (its UTF-8 bytes as
    %XX in either case; a space also as `+`), in any mix — as Apprise or a server may
    write it. A lookahead, so that overlapping places are all found."""
    parts = []
    for char in secret:
        encoded = "".join(
            "%" + "".join(f"[{h.upper()}{h.lower()}]" if h.isalpha() else h for h in f"{b:02x}")
            for b in char.encode()
        )
        options = [re.escape(char), encoded, *([r"\+"] if char == " " else [])]
        parts.append("(?:" + "|".join(options) + ")")
    return re.compile("(?=(" + "".join(parts) + "))")


def scrub(text: str, secrets: Iterable[str], whole: Iterable[str] = ()) -> str:
    """`text` with every form of every secret replaced by `…` (overlaps merged), or
    WITHHELD when a secret shorter than MIN_CUT occurs in it; `whole` (a target's URL,
    which may hold tokens typed into the file) is cut out whatever its length; every URL
    is cut to its scheme (`slack://…`)."""
    text = URL.sub(lambda m: f"{m.group(1)}://{MASK}", text)
    spans: list[tuple[int, int]] = []
    short = {f for secret in secrets if secret for f in forms(secret)}
    for form in short | {f for each in whole if each for f in forms(each)}:
        found = [(m.start(1), m.end(1)) for m in pattern(form).finditer(text)]
        if found and len(form) < MIN_CUT and form in short:
            return WITHHELD
        spans += found
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, done = [], 0
    for start, end in merged:
        out += [text[done:start], MASK]
        done = end
    return re.sub(f"{MASK}+", MASK, "".join([*out, text[done:]]))  # one mask per place
