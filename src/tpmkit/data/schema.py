"""What columns each dataset offers, read from file headers only (for validation)."""

from __future__ import annotations

from typing import Any

from tpmkit.contract import CANONICAL, QUEUE_DIMENSIONS, ROSTER_DIMENSIONS, TENURE_BAND
from tpmkit.data.sources import scan_file, source_files
from tpmkit.errors import DataError, DefinitionError, Issue, TpmkitError
from tpmkit.spec.loader import Definitions


def _header_columns(project: Definitions, name: str) -> set[str] | None:
    source = project.spec.sources.get(name)
    if source is None or source.table:
        return None
    try:
        files = source_files(source, project.root, name)
        return set.intersection(
            *(set(scan_file(f, source, project.root, name).canonical) for f in files)
        )
    except TpmkitError:
        return None


def available_columns(project: Definitions) -> dict[str, set[str]]:
    """Columns usable per dataset: file headers after mapping (else the contract), + what
    the roster (by agent_id) and the queues (by queue) attribute."""
    columns: dict[str, set[str]] = {}
    names = {*CANONICAL, *project.spec.sources}
    roster = _header_columns(project, "agents") if "agents" in project.spec.sources else None
    roster_dims = (roster or set(CANONICAL["agents"].names)) - {"agent_id"}
    queues = _header_columns(project, "queues") if "queues" in project.spec.sources else None
    queue_dims = (queues or set(QUEUE_DIMENSIONS)) - {"queue"}
    for name in names:
        found = _header_columns(project, name)
        source = project.spec.sources.get(name)
        contract = CANONICAL.get(name)
        if source is not None and source.table and contract is None:
            continue  # a table's columns are known when it is read, not when loading

        # a canonical column missing from the export is not a definition error: the metrics
        # that need it report no_data with the reason when evaluated
        known = set(found or ()) | set(contract.names if contract else [])
        if found is None and source is not None:
            known |= set(source.columns.values()) | set(source.derive) | set(source.types)
            known |= set(source.clock_times)
        for derivation in contract.derivations if contract else ():
            if set(derivation.inputs) <= known:
                known.add(derivation.column)
        if "agent_id" in known and name != "agents" and "agents" in project.spec.sources:
            known |= roster_dims & set(ROSTER_DIMENSIONS) | (roster_dims if roster else set())
            if "hire_date" in roster_dims:  # the tenure band is computed from it
                known.add(TENURE_BAND)
        if "queue" in known and name != "queues" and "queues" in project.spec.sources:
            known |= queue_dims
        columns[name] = known
    return columns


def schema_issues(project: Definitions, rows: int | None = None) -> list[Issue]:
    """Problems of each configured source: unreadable files, mapped columns that are not in
    the export, missing required columns and values that break the data contract (in the
    first `rows` rows of each file; None: every row)."""
    from tpmkit.data.load import load_dataset

    issues: list[Issue] = table_issues(project)
    for name, source in project.spec.sources.items():
        if source.table:
            continue  # its values are read and checked when evaluated, with the same rules
        path = ("sources", name, "path")
        try:
            files = source_files(source, project.root, name)
            for file in files:
                scanned = scan_file(file, source, project.root, name)
                issues += _unmapped(project, name, scanned.raw_names, scanned.display)
            data = load_dataset(name, source, project.root, project.spec.timezone, first_rows=rows)
            if data.rows_read == 0:  # every metric of it would be no_data: say why now
                issues.append(
                    project.doc.issue(
                        path,
                        f"dataset `{name}`: the export has no data rows (a header only)",
                        severity="warning",
                        hint="export a range that has contacts in it",
                    )
                )
        except (DataError, DefinitionError) as exc:
            if not exc.issues:
                issues.append(project.doc.issue(path, exc.message))
            for issue in exc.issues:
                if issue.file is None:
                    issues.append(project.doc.issue(path, issue.message, hint=issue.hint))
                else:
                    issues.append(issue)
        if name not in CANONICAL and not (source.time_column or source.types):
            issues.append(
                project.doc.issue(
                    ("sources", name),
                    f"custom dataset `{name}` has no `time_column`",
                    severity="warning",
                    hint="add time_column: <timestamp column>",
                )
            )
    return issues


def table_issues(project: Definitions) -> list[Issue]:
    """Each `table:` source's table opened without its rows: a table the connection does
    not have, or without a column `columns:` maps, is named at its line. The tables of
    Spark's catalog are not opened (that starts a Spark session): said once."""
    tables = {n: s for n, s in project.spec.sources.items() if s.table}
    if not tables:
        return []
    connection = project.spec.connection
    if connection is None and project.spec.engine != "spark":
        return []  # the loader names each such table: it needs a connection
    if connection is None:
        return [
            project.doc.issue(
                ("engine",),
                f"the tables of Spark's catalog ({', '.join(tables)}) are not opened by "
                "validate, which starts no Spark session",
                severity="warning",
                hint="`tpmkit check` reads them, with the same rules as an export's",
            )
        ]
    from tpmkit.engines.backend import connect_source, read_table

    try:
        backend = connect_source(connection, project.root)
    except TpmkitError as exc:
        return [project.doc.issue(("connection",), exc.message, hint=_first_hint(exc))]
    except Exception as exc:  # the driver's own "cannot connect"
        return [project.doc.issue(("connection",), f"cannot connect: {str(exc).strip()[:200]}")]
    issues: list[Issue] = []
    try:
        for name, source in tables.items():
            where = ("sources", name, "table")
            try:
                header = read_table(backend, name, str(source.table), rows=0)
            except TpmkitError as exc:
                issues.append(project.doc.issue(where, exc.message, hint=_first_hint(exc)))
                continue
            issues += _unmapped(project, name, tuple(header.columns), f"table `{source.table}`")
    finally:
        backend.close()
    return issues


def _unmapped(project: Definitions, name: str, present: tuple[str, ...], where: str) -> list[Issue]:
    """A warning at each column the source's `columns:` maps that `where` does not have."""
    source = project.spec.sources[name]
    return [
        project.doc.issue(
            ("sources", name, "columns", export),
            f"mapped column `{export}` is not in {where}",
            key=True,
            severity="warning",
            hint=_suggest(export, present),
        )
        for export in source.columns
        if export not in present
    ]


def _first_hint(exc: Any) -> str | None:
    """The first issue of an error, as a hint."""
    issue = (exc.issues or [None])[0]
    return None if issue is None else " ".join(x for x in (issue.message, issue.hint) if x)


def _suggest(word: str, choices: tuple[str, ...]) -> str | None:
    from tpmkit.errors import did_you_mean

    return did_you_mean(word, choices)
