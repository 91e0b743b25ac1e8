"""Which columns a load reads: declared types, required columns, the columns wanted, and
the contract columns an export does not have."""

from __future__ import annotations

from tpmkit.contract import DatasetContract
from tpmkit.data.diagnose import separator_hint
from tpmkit.data.sources import ScannedFile
from tpmkit.errors import DataError, Issue
from tpmkit.spec.models import Source


def column_types(name: str, source: Source, contract: DatasetContract | None) -> dict[str, str]:
    """The declared type of each column: contract, then the source's `types`, then time column."""
    types = {c.name: c.type for c in contract.columns} if contract else {}
    time_column = source.time_column or (contract.time_column if contract else None)
    if time_column and time_column not in types:
        types[time_column] = "timestamp"
    types.update(source.types)
    return types


def required(contract: DatasetContract | None, source: Source) -> list[str]:
    """Columns every export must have: the contract's required ones, the source's time
    and id columns."""
    names = [c.name for c in contract.columns if c.required] if contract else []
    if source.time_column:
        names.append(source.time_column)
    if source.id_column:
        names.append(source.id_column)
    return list(dict.fromkeys(names))


def check_required(
    name: str, scanned: list[ScannedFile], contract: DatasetContract | None, source: Source
) -> None:
    """A data error naming every required column an export lacks (and cannot derive)."""
    issues = []
    must = required(contract, source)
    for item in scanned:
        present = set(item.canonical)
        for column in must:
            if column in present:
                continue
            derivation = contract.derivation(column) if contract else None
            if derivation and derivation.possible(present, set(must)):
                continue
            hint = f'map it: columns: {{"Export Header": {column}}}'
            if derivation:
                inputs = ", ".join(derivation.provide(set(must)))
                hint += f", or provide {inputs} to derive it ({derivation.words})"
            hint = separator_hint(item.raw_names, source) or hint
            issues.append(
                Issue(
                    f"dataset `{name}`: required column `{column}` is missing in {item.display}; "
                    f"columns found: {', '.join(item.raw_names) or '(none)'}",
                    file=item.display,
                    hint=hint,
                )
            )
    if issues:
        raise DataError(f"dataset `{name}`: required columns are missing", issues)


def wanted_columns(
    scanned: list[ScannedFile],
    contract: DatasetContract | None,
    source: Source,
    needed: set[str] | None,
    time_column: str | None,
) -> list[str]:
    """The columns to read: `needed` (None: all) with the required, time and id columns,
    the inputs of the contract's derivations, and the limit of a `not_above` rule."""
    every = set.union(*(set(s.canonical) for s in scanned))
    if needed is None:
        wanted = sorted(every)
    else:
        always = {*required(contract, source), *(c for c in (time_column,) if c)}
        if contract and contract.id_column:
            always.add(contract.id_column)
        inputs = {c for d in (contract.derivations if contract else ()) for c in d.inputs}
        wanted = sorted((set(needed) | always | inputs) & every)
    for column, limit, _ in contract.not_above if contract else ():
        if column in wanted and limit in every and limit not in wanted:
            wanted.append(limit)  # the limit is checked even when no metric reads it
    return wanted


def check_union(name: str, scanned: list[ScannedFile], source: Source, wanted: list[str]) -> None:
    """Files of one glob must have the same columns, unless `union: by_name`."""
    available = set.intersection(*(set(s.canonical) for s in scanned))
    for column in wanted:
        if column not in available and source.union != "by_name":
            have = next(s.display for s in scanned if column in s.canonical)
            lack = next(s.display for s in scanned if column not in s.canonical)
            raise DataError(
                f"dataset `{name}`: files disagree on their columns",
                [
                    Issue(
                        f"column `{column}` is in {have} but not in {lack}",
                        file=lack,
                        hint="export every file with the same columns, or set "
                        "`union: by_name` on the source to read missing columns as empty",
                    )
                ],
            )


def missing_columns(
    name: str, scanned: list[ScannedFile], contract: DatasetContract | None
) -> dict[str, str]:
    """Contract columns (without a default) some export lacks, with why they are unavailable."""
    available = set.intersection(*(set(s.canonical) for s in scanned))
    return {
        c.name: f"column `{c.name}` is not in the `{name}` export"
        for c in (contract.columns if contract else ())
        if c.name not in available and c.default is None
    }
