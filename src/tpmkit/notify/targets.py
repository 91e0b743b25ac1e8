"""Where notifications go: Apprise URLs from `notify:` and `--notify`, with `${VAR}`
replaced from the environment, and the masked form every message about a target shows.

A URL carries secrets (a webhook token, an SMTP password), so a target is only ever shown
masked: its scheme and, for services whose host is a real host typed in the file, that
host — never a user, password, path or query, nor anything that came from a variable."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tpmkit.errors import Issue, UsageError
from tpmkit.notify.secrets import scrub

VARIABLE = re.compile(r"\$\{([^}]*)\}")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# services whose URL host is a network host (for the others, e.g. slack://TokenA/…, the
# "host" is itself a token)
HOST_SCHEMES = {
    "json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos", "ntfy", "ntfys",
    "gotify", "gotifys", "mmost", "mmosts", "rocket", "rockets", "matrix", "matrixs",
}  # fmt: skip
EMAIL_SCHEMES = {"mailto", "mailtos"}


@dataclass(frozen=True)
class Target:
    """One notification target; `url` holds secrets and is never shown (see `shown`)."""

    url: str = field(repr=False)
    shown: str  # the masked form, for every message about this target
    where: str  # where it was given, e.g. "notify[0] in tpmkit.yaml" or "--notify"
    roles: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    secrets: tuple[str, ...] = field(default=(), repr=False)  # values to mask in any text

    @property
    def scheme(self) -> str:
        return self.url.partition("://")[0].lower()

    @property
    def email(self) -> bool:
        """An email target: it gets the report attached."""
        return self.scheme in EMAIL_SCHEMES

    @property
    def webhook(self) -> bool:
        """A generic JSON webhook: it gets the structured body."""
        return self.scheme in ("json", "jsons")

    def scrub(self, text: str) -> str:
        """`text` with this target's URL and every secret in it — as written, URL-encoded
        or decoded — replaced by `…` (see `notify.secrets`)."""
        return scrub(text, self.secrets, whole=(self.url,))


def mask(raw: str) -> str:
    """The URL as written, reduced to what is safe to show: `json://host:8080/…`."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        return "…"
    scheme = scheme.lower()
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        netloc = parts.netloc.rpartition("@")[2]  # never a user or password
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return f"{scheme}://…"
    if scheme not in HOST_SCHEMES or not host or "$" in netloc:
        return f"{scheme}://…"
    shown = f"{scheme}://{host}" + (f":{port}" if port else "")
    if rest.rstrip("/") != netloc or "@" in parts.netloc:
        shown += "/…"
    return shown


def expand(raw: str, where: str, environ: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """`raw` with each `${VAR}` replaced by the environment's value, and those values."""
    values: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if not NAME.match(name):
            raise UsageError(
                f"{where}: `${{{name}}}` is not an environment variable name",
                [Issue("write ${NAME} with letters, digits and _", severity="hint")],
            )
        if name not in environ or environ[name] == "":
            raise UsageError(
                f"{where}: the environment variable {name} is not set",
                [
                    Issue(
                        f"export {name}=… before running (secrets come from the environment, "
                        "never from a file)",
                        severity="hint",
                    )
                ],
            )
        values.append(environ[name])
        return environ[name]

    return VARIABLE.sub(value, raw), tuple(values)


def target(
    raw: str,
    where: str,
    roles: Sequence[str] = (),
    metrics: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Target:
    """One target from its URL as written; a missing variable is a usage error naming it."""
    url, secrets = expand(raw.strip(), where, os.environ if environ is None else environ)
    # the URL's own user and password are secrets too, even typed into the file
    try:
        parts = urlsplit(url)
        own = tuple(s for s in (parts.username, parts.password) if s)
    except ValueError:
        own = ()
    return Target(url, mask(raw.strip()), where, tuple(roles), tuple(metrics), (*secrets, *own))
