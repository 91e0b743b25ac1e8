"""YAML loading: safe, located, bounded."""

from __future__ import annotations

import pytest

from tpmkit.errors import DefinitionError
from tpmkit.spec.yamlfile import parse_yaml


def test_values_and_keys_are_located():
    doc = parse_yaml("a: 1\nb:\n  c: 'x'\n  d: [1, 2]\n", "f.yaml")
    assert doc.data == {"a": 1, "b": {"c": "x", "d": [1, 2]}}
    assert doc.locate(("a",)) == (1, 4)
    assert doc.locate(("b", "c"), key=True) == (3, 3)
    assert doc.locate(("b", "c")) == (3, 7)  # first character inside the quotes
    assert doc.locate(("b", "d", 1)) == (4, 10)
    # unknown parts fall back to the closest enclosing node
    assert doc.locate(("b", "mean", "c")) == (3, 7)


def test_syntax_error_is_located():
    with pytest.raises(DefinitionError) as caught:
        parse_yaml("a: [1, 2\nb: 3\n", "f.yaml")
    issue = caught.value.issues[0]
    assert issue.file == "f.yaml" and issue.line == 2


def test_python_tags_are_refused():
    with pytest.raises(DefinitionError):
        parse_yaml("a: !!python/object/apply:os.system ['true']\n", "f.yaml")


def test_alias_bomb_fails_fast():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(DefinitionError) as caught:
        parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert "nodes" in caught.value.message


def test_duplicate_keys_are_reported():
    doc = parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [(i.line, i.message) for i in doc.duplicates] == [
        (3, "duplicate key `a` (first defined on line 1)")
    ]
