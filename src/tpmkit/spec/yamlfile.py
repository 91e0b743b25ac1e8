"""Safe YAML loading that remembers where every key and value came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tpmkit.errors import DefinitionError, Issue

Path_ = tuple[str | int, ...]
Mark = tuple[int, int]  # 1-based line, 1-based column

MAX_NODES = 200_000  # guards against alias bombs: a real definition file is far smaller
MAX_BYTES = 5_000_000  # a definition file is a few kB; anything this large is not one


@dataclass
class LocatedDoc:
    """A parsed YAML document plus the line/column of each value and key."""

    file: str
    data: Any
    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)
    duplicates: list[Issue] = field(default_factory=list)

    def locate(self, path: Path_, *, key: bool = False) -> Mark | None:
        """Line and column of `path`; falls back to the closest enclosing node.

        Path elements that are not in the document (e.g. a discriminated-union tag that
        pydantic inserts in error locations) are skipped.
        """
        cleaned: list[str | int] = []
        for part in path:
            candidate = (*cleaned, part)
            if candidate in self.values:
                cleaned.append(part)
        target = tuple(cleaned)
        if len(target) == len(path) and key and target in self.keys:
            return self.keys[target]
        while target:
            if target in self.values:
                return self.values[target]
            target = target[:-1]
        return self.values.get((), (1, 1))

    def issue(
        self,
        path: Path_,
        message: str,
        *,
        key: bool = False,
        hint: str | None = None,
        severity: str = "error",
        offset: int = 0,
    ) -> Issue:
        """A located issue for the node at `path` (`offset` columns into a scalar)."""
        mark = self.locate(path, key=key)
        line, col = mark if mark else (None, None)
        if col is not None:
            col += offset
        return Issue(message, file=self.file, line=line, column=col, hint=hint, severity=severity)


def _walk(
    node: yaml.Node,
    path: Path_,
    doc: LocatedDoc,
    budget: list[int],
    inside: frozenset[int] = frozenset(),
) -> None:
    if id(node) in inside:  # an alias to a node that contains it: `&a [*a]`
        raise DefinitionError(
            f"{doc.file}: a YAML alias refers to a node that contains it",
            [
                Issue(
                    "recursive alias",
                    file=doc.file,
                    line=node.start_mark.line + 1,
                    column=node.start_mark.column + 1,
                    hint="definition files cannot be recursive; write the value out",
                )
            ],
        )
    inside = inside | {id(node)}
    budget[0] += 1
    if budget[0] > MAX_NODES:
        raise DefinitionError(
            f"{doc.file}: the YAML document expands to more than {MAX_NODES} nodes",
            [
                Issue(
                    "too many nodes (alias expansion?)",
                    file=doc.file,
                    hint="remove repeated aliases",
                )
            ],
        )
    # for a quoted scalar, point at its first character so offsets into it line up
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    doc.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1 + int(quoted))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, Mark] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in seen:
                doc.duplicates.append(
                    Issue(
                        f"duplicate key `{key}` (first defined on line {seen[key][0]})",
                        file=doc.file,
                        line=mark[0],
                        column=mark[1],
                        hint="keep only one of them",
                    )
                )
            seen[key] = mark
            doc.keys[(*path, key)] = mark
            _walk(value_node, (*path, key), doc, budget, inside)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), doc, budget, inside)


# LibYAML's parser when PyYAML was built with it (several times faster); same safe
# constructor, same marks.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _tab_near(text: str, line: int | None) -> Mark | None:
    """The 1-based line and column of a tab in the leading blanks of the line the parser
    stopped at (or the line before it, where a block ended), if there is one."""
    if line is None:
        return None
    lines = text.splitlines()
    for index in (line, line - 1):
        if 0 <= index < len(lines):
            blanks = lines[index][: len(lines[index]) - len(lines[index].lstrip(" \t"))]
            if "\t" in blanks:
                return index + 1, blanks.index("\t") + 1
    return None


def parse_yaml(text: str, file: str) -> LocatedDoc:
    """Parse YAML text with safe_load semantics (no arbitrary tags), keeping locations."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return LocatedDoc(file=file, data=None)
            doc = LocatedDoc(file=file, data=None)
            _walk(node, (), doc, [0])
            doc.data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        hint = "check indentation and quoting"
        tab = _tab_near(text, mark.line if mark else None)
        if tab is not None:  # PyYAML only says "cannot start any token"
            line, col = tab
            problem = "a tab character in the indentation: YAML indents with spaces only"
            hint = f"replace the tab on line {line} with spaces"
        raise DefinitionError(
            f"{file} is not valid YAML",
            [Issue(problem, file=file, line=line, column=col, hint=hint)],
        ) from None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{file} is not valid YAML", [Issue(str(exc), file=file)]) from None
    except RecursionError:
        raise DefinitionError(
            f"{file} is nested too deeply",
            [Issue("the YAML nests hundreds of levels", file=file, hint="flatten it")],
        ) from None
    return doc


def load_yaml(path: Path, display: str | None = None) -> LocatedDoc:
    """Read and parse a YAML file; unreadable files are a DefinitionError."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DefinitionError(f"file not found: {name}") from None
    except UnicodeDecodeError as exc:
        before = exc.object[: exc.start]
        raise DefinitionError(
            f"cannot read {name}: it is not UTF-8 text",
            [
                Issue(
                    f"byte {exc.object[exc.start : exc.start + 1]!r} is not UTF-8",
                    file=name,
                    line=before.count(b"\n") + 1,
                    column=exc.start - before.rfind(b"\n"),
                    hint="save the file as UTF-8 (definition files are always UTF-8)",
                )
            ],
        ) from None
    except OSError as exc:
        raise DefinitionError(f"cannot read {name}: {exc}") from None
    if len(text) > MAX_BYTES:
        raise DefinitionError(
            f"{name} is too large for a definition file ({len(text):,} characters)",
            [Issue(f"more than {MAX_BYTES:,} characters", file=name, hint="is it a data file?")],
        )
    return parse_yaml(text, name)
