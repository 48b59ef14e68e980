"""C-FIND on the index (PS3.4 C.4.1, C.6.1 Patient Root, C.6.2 Study Root),
and the instance lists C-MOVE/C-GET send (C.4.2, C.4.3).

:func:`find` takes an identifier :class:`~dicomfast.Dataset` and yields one
result :class:`~dicomfast.Dataset` per match, for the network layer to send
as a Pending response each.  Keys the index has columns for (those C.6 lists
per level) are matched in SQL; every other key is matched in Python on the
DICOM JSON attributes kept at the level queried (see
:mod:`dicomfast.archive.matching` for the matching rules).

Interpretation choices (C.4.1.2.2 leaves relational-style queries to the SCP):

- keys of the levels above the query level are matched as given (any kind
  of matching; their unique keys need not be single values) and returned;
- keys of levels below the query level are not matched and are returned empty;
- each response carries the unique keys from the model's top level down to
  the query level, the Query/Retrieve Level and, when a value is not ASCII,
  Specific Character Set ``ISO_IR 192`` (values are returned in UTF-8);
- at the IMAGE level extra copies of an instance (``keep-both``) are returned
  once; counts count distinct instances.

Errors are :class:`~dicomfast.archive.matching.QueryError` with the status to
answer: 0xA900 (Identifier does not match SOP Class) when the Query/Retrieve
Level is missing or not one of the model's; 0xC000 (Unable to process) for a
malformed key value (a bad date range, a wildcard in a UID, a sequence with
more than one item).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from ..dataset import Dataset, Sequence
from ..dictionary import dictionary_vr
from ..element import DataElement
from ..json_model import _value_from_json, from_json
from . import matching as mt
from .matching import QueryError
from .schema import instances, patients, series, studies

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
_DEPTH = {lv: i for i, lv in enumerate(LEVELS)}

PATIENT_ROOT = "PATIENT"
STUDY_ROOT = "STUDY"
#: SOP Class UIDs of the Query/Retrieve models → the model (PS3.4 C.6, Table B.5-1 style).
MODEL_UIDS = {
    "1.2.840.10008.5.1.4.1.2.1.1": PATIENT_ROOT,  # FIND
    "1.2.840.10008.5.1.4.1.2.1.2": PATIENT_ROOT,  # MOVE
    "1.2.840.10008.5.1.4.1.2.1.3": PATIENT_ROOT,  # GET
    "1.2.840.10008.5.1.4.1.2.2.1": STUDY_ROOT,
    "1.2.840.10008.5.1.4.1.2.2.2": STUDY_ROOT,
    "1.2.840.10008.5.1.4.1.2.2.3": STUDY_ROOT,
}

_TABLE = {"PATIENT": patients, "STUDY": studies, "SERIES": series, "IMAGE": instances}

QUERY_RETRIEVE_LEVEL = 0x00080052
SPECIFIC_CHARACTER_SET = 0x00080005
MODALITIES_IN_STUDY = 0x00080061
INSTANCE_AVAILABILITY = 0x00080056
RETRIEVE_AE_TITLE = 0x00080054
AVAILABLE_TRANSFER_SYNTAX = 0x00083002


@dataclass(frozen=True)
class Key:
    level: str
    match: sa.Column[Any]  # the column matched on (PN: the upper-cased copy)
    value: sa.Column[Any]  # the column returned


def _k(level: str, col: sa.Column[Any], ret: sa.Column[Any] | None = None) -> Key:
    return Key(level, col, ret if ret is not None else col)


#: Keys with columns of their own (PS3.4 C.6.1.1 / C.6.2.1 tables).
KEYS: dict[int, Key] = {
    0x00100020: _k("PATIENT", patients.c.patient_id),
    0x00100010: _k("PATIENT", patients.c.patient_name_norm, patients.c.patient_name),
    0x00100030: _k("PATIENT", patients.c.patient_birth_date),
    0x00100040: _k("PATIENT", patients.c.patient_sex),
    0x0020000D: _k("STUDY", studies.c.study_instance_uid),
    0x00080020: _k("STUDY", studies.c.study_date),
    0x00080030: _k("STUDY", studies.c.study_time),
    0x00080050: _k("STUDY", studies.c.accession_number),
    0x00200010: _k("STUDY", studies.c.study_id),
    0x00080090: _k(
        "STUDY", studies.c.referring_physician_name_norm, studies.c.referring_physician_name
    ),
    0x00081030: _k("STUDY", studies.c.study_description),
    0x0020000E: _k("SERIES", series.c.series_instance_uid),
    0x00080060: _k("SERIES", series.c.modality),
    0x00200011: _k("SERIES", series.c.series_number),
    0x0008103E: _k("SERIES", series.c.series_description),
    0x00180015: _k("SERIES", series.c.body_part_examined),
    0x00080018: _k("IMAGE", instances.c.sop_instance_uid),
    0x00080016: _k("IMAGE", instances.c.sop_class_uid),
    0x00200013: _k("IMAGE", instances.c.instance_number),
    AVAILABLE_TRANSFER_SYNTAX: _k("IMAGE", instances.c.transfer_syntax_uid),
}

#: Keys computed from the rows below a level: tag → (level, what).
COMPUTED: dict[int, tuple[str, str]] = {
    MODALITIES_IN_STUDY: ("STUDY", "modalities"),
    0x00201200: ("PATIENT", "studies"),  # Number of Patient Related Studies
    0x00201202: ("PATIENT", "series"),  # ... Series
    0x00201204: ("PATIENT", "instances"),  # ... Instances
    0x00201206: ("STUDY", "series"),  # Number of Study Related Series
    0x00201208: ("STUDY", "instances"),  # ... Instances
    0x00201209: ("SERIES", "instances"),  # Number of Series Related Instances
}

#: The unique key of each level.
UNIQUE = {"PATIENT": 0x00100020, "STUDY": 0x0020000D, "SERIES": 0x0020000E, "IMAGE": 0x00080018}

#: Which level a key of the identifier belongs to, for keys without columns (from
#: the C.6 tables; anything else is taken as belonging to the query level).
_LEVEL_OF_GROUP = {0x0010: "PATIENT"}


def model_of(model: str) -> str:
    """``PATIENT``/``STUDY`` (also ``patient-root``...) or a Q/R SOP Class UID → the model."""
    m = MODEL_UIDS.get(model)
    if m:
        return m
    up = model.upper().replace("-", "_")
    if up in ("PATIENT", "PATIENT_ROOT"):
        return PATIENT_ROOT
    if up in ("STUDY", "STUDY_ROOT"):
        return STUDY_ROOT
    raise QueryError(f"unknown information model {model!r}", mt.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS)


def level_of(identifier: Dataset, model: str) -> str:
    elem = identifier.get(QUERY_RETRIEVE_LEVEL)
    value = mt.text(elem.value if elem is not None else None)
    if not value:
        raise QueryError(
            "the identifier has no Query/Retrieve Level", mt.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
        )
    if value not in LEVELS or (model == STUDY_ROOT and value == "PATIENT"):
        raise QueryError(
            f"Query/Retrieve Level {value!r} is not one of the "
            f"{'Study' if model == STUDY_ROOT else 'Patient'} Root model's",
            mt.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
            tag=QUERY_RETRIEVE_LEVEL,
        )
    return value


def _from_clause(level: str) -> sa.FromClause:
    if level == "PATIENT":
        return patients
    j: sa.FromClause = studies.join(patients, studies.c.patient_pk == patients.c.pk)
    if level == "STUDY":
        return j
    j = series.join(j, series.c.study_pk == studies.c.pk)
    if level == "SERIES":
        return j
    return instances.join(j, instances.c.series_pk == series.c.pk)


def _key_level(tag: int, query_level: str) -> str:
    if tag in KEYS:
        return KEYS[tag].level
    if tag in COMPUTED:
        return COMPUTED[tag][0]
    return _LEVEL_OF_GROUP.get(tag >> 16, query_level)


@dataclass
class _Plan:
    level: str
    model: str
    elements: list[DataElement]  # the requested keys, in identifier order
    sql_matchers: list[tuple[Key, mt.Matcher]]
    modality_matcher: mt.Matcher | None
    attr_matchers: list[mt.Matcher]  # matched on the level's attrs in Python
    computed_matchers: list[tuple[int, mt.Matcher]]
    below: set[int]  # keys of lower levels: returned empty


def plan(identifier: Dataset, model: str) -> _Plan:
    """Check an identifier and decide how each key is matched."""
    model = model_of(model)
    level = level_of(identifier, model)
    depth = _DEPTH[level]
    p = _Plan(level, model, [], [], None, [], [], set())
    for elem in identifier:
        tag = elem.tag
        if tag in (QUERY_RETRIEVE_LEVEL, SPECIFIC_CHARACTER_SET) or tag >> 16 in (0x0000, 0x0002):
            continue
        if tag >> 16 & 1:  # private keys are not supported: not matched, not returned
            continue
        p.elements.append(elem)
        vr = elem.VR if elem.VR not in ("UN", "") else dictionary_vr(tag)
        key_level = _key_level(tag, level)
        if _DEPTH[key_level] > depth:
            p.below.add(tag)
            continue
        matcher = mt.matcher_for(tag, vr, elem.value)
        if matcher.universal:
            continue
        if tag in KEYS:
            p.sql_matchers.append((KEYS[tag], matcher))
        elif tag == MODALITIES_IN_STUDY:
            p.modality_matcher = matcher
        elif tag in COMPUTED:
            p.computed_matchers.append((tag, matcher))
        else:
            p.attr_matchers.append(matcher)
    return p


def _unindexed(col: sa.Column[Any]) -> sa.ColumnElement[Any]:
    """``+col``: the same value, but SQLite will not drive the query from its index."""
    return UnaryExpression(col, operator=custom_op("+"), type_=col.type)


def _where(p: _Plan, driver: sa.Table | None = None) -> list[sa.ColumnElement[bool]]:
    """The SQL conditions; with a ``driver``, the indexes of the other tables' keys are
    kept out of SQLite's choice (see :func:`_driver`)."""
    conds = []
    for key, matcher in p.sql_matchers:
        col = key.match
        cond = matcher.sql(col if driver is None or col.table is driver else _unindexed(col))
        if cond is not None:
            conds.append(cond)
    if p.modality_matcher is not None:
        cond = p.modality_matcher.sql(series.c.modality)
        if cond is not None:
            sub = sa.select(series.c.pk).where(series.c.study_pk == studies.c.pk, cond)
            conds.append(sa.exists(sub))
    return conds


#: How many index entries a probe of :func:`_driver` counts at most.
PROBE_LIMIT = 1000


def _indexed(table: sa.Table) -> set[str]:
    """The columns an index of ``table`` starts with."""
    cols = {idx.expressions[0].name for idx in table.indexes}  # type: ignore[union-attr]
    for c in table.constraints:
        if isinstance(c, sa.UniqueConstraint | sa.PrimaryKeyConstraint) and c.columns:
            cols.add(next(iter(c.columns)).name)
    return cols


_INDEXED = {t: _indexed(t) for t in (patients, studies, series, instances)}


def _seekable(matcher: mt.Matcher) -> bool:
    """Can an index seek to the matches (rather than scan)?"""
    if matcher.kind in ("single", "range"):
        return True
    if matcher.kind == "wildcard":
        return matcher.values[0][:1] not in ("*", "?", "")
    return matcher.kind == "list" and not any("*" in v or "?" in v for v in matcher.values)


def _driver(conn: sa.Connection, p: _Plan) -> sa.Table | None:
    """SQLite only: the table whose indexed keys match the fewest rows (counted up to
    PROBE_LIMIT, through the indexes only), when keys of several tables could each
    drive the query (None when every count reaches the limit).  SQLite keeps no statistics of value ranges, so it cannot tell a
    name prefix matching 100 patients from a date range matching half the studies;
    PostgreSQL can, and plans on its own."""
    if conn.dialect.name != "sqlite":
        return None
    by_table: dict[sa.Table, list[sa.ColumnElement[bool]]] = defaultdict(list)
    for key, matcher in p.sql_matchers:
        table = key.match.table
        if isinstance(table, sa.Table) and key.match.name in _INDEXED.get(table, ()):
            cond = matcher.sql(key.match) if _seekable(matcher) else None
            if cond is not None:
                by_table[table].append(cond)
    if len(by_table) < 2:
        return None
    counts = {}
    for table, conds in by_table.items():
        probe = sa.select(sa.literal(1)).select_from(table).where(*conds).limit(PROBE_LIMIT)
        counts[table] = conn.execute(
            sa.select(sa.func.count()).select_from(probe.subquery())
        ).scalar_one()
    best = min(counts, key=lambda t: counts[t])
    return best if counts[best] < PROBE_LIMIT else None  # all large: SQLite's own plan


def _matching_rows(conn: sa.Connection, p: _Plan, extra: list[sa.ColumnElement[Any]]) -> list[Any]:
    table = _TABLE[p.level]
    cols = [table.c.pk, *extra]
    if p.attr_matchers:
        cols.append(table.c.attrs)
    where = _where(p, _driver(conn, p))
    q = sa.select(*cols).select_from(_from_clause(p.level)).where(*where).order_by(table.c.pk)
    if p.level == "IMAGE":
        q = q.order_by(instances.c.sop_instance_uid, instances.c.copy)
    rows = list(conn.execute(q))
    if p.attr_matchers:
        rows = [r for r in rows if mt.match_attrs(p.attr_matchers, r.attrs or {})]
    if p.level == "IMAGE":  # copies kept by keep-both: one response per instance
        seen: set[str] = set()
        out = []
        for r in rows:
            if r.sop_instance_uid not in seen:
                seen.add(r.sop_instance_uid)
                out.append(r)
        rows = out
    return rows


def _chunks(seq: list[int], n: int = 500) -> Iterator[list[int]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _computed(conn: sa.Connection, level: str, what: str, pks: list[int]) -> dict[int, Any]:
    """Counts (distinct instances) or the modalities below each row of ``level``."""
    out: dict[int, Any] = {}
    if level == "PATIENT":
        key = studies.c.patient_pk
        base: sa.FromClause = studies
        if what != "studies":
            base = base.join(series, series.c.study_pk == studies.c.pk)
    elif level == "STUDY":
        key = series.c.study_pk
        base = series
    else:
        key = instances.c.series_pk
        base = instances
    if what == "instances" and level != "SERIES":
        base = base.join(instances, instances.c.series_pk == series.c.pk)
    target = {
        "studies": studies.c.pk,
        "series": series.c.pk,
        "instances": instances.c.sop_instance_uid,
        "modalities": series.c.modality,
    }[what]
    for chunk in _chunks(pks):
        if what == "modalities":
            q = (
                sa.select(key, target)
                .select_from(base)
                .where(key.in_(chunk), target != "")
                .distinct()
                .order_by(key, target)
            )
            acc: dict[int, list[str]] = defaultdict(list)
            for k, v in conn.execute(q):
                for m in str(v).split("\\"):
                    if m and m not in acc[k]:
                        acc[k].append(m)
            out.update(acc)
        else:
            q = (
                sa.select(key, sa.func.count(sa.distinct(target)))
                .select_from(base)
                .where(key.in_(chunk))
                .group_by(key)
            )
            out.update({k: int(n) for k, n in conn.execute(q)})
    return out


def _element(tag: int, vr: str, value: Any) -> DataElement:
    return DataElement(tag, vr, value)


def _column_value(vr: str, v: Any) -> Any:
    if v is None:
        return None if vr in mt.NUMBER_VRS else ""
    if vr in mt.NUMBER_VRS:
        return v
    s = str(v)
    if "\\" in s:
        return s.split("\\")
    return s


def _sequence_value(elem: DataElement, stored: dict[str, Any] | None) -> Sequence:
    if not stored or not stored.get("Value"):
        return Sequence([])
    wanted = list(elem.value or [])
    items = []
    for item_json in stored["Value"]:
        full = from_json(item_json)
        if wanted and len(wanted[0]):
            # return the keys asked for in the item (empty when not stored)
            out = Dataset()
            for sub in wanted[0]:
                out[sub.tag] = (
                    full[sub.tag]
                    if sub.tag in full
                    else _element(sub.tag, sub.VR, [] if sub.VR == "SQ" else None)
                )
            items.append(out)
        else:
            items.append(full)
    return Sequence(items)


def _attr_value(elem: DataElement, vr: str, attrs: dict[str, Any] | None) -> Any:
    """The value of a key read from stored DICOM JSON attributes."""
    return _stored_value(elem, vr, (attrs or {}).get(f"{elem.tag:08X}"))


def _stored_value(elem: DataElement, vr: str, stored: dict[str, Any] | None) -> Any:
    """The value of a key read from its stored DICOM JSON element (None: not stored)."""
    if vr == "SQ":
        return _sequence_value(elem, stored)
    if not stored:
        return None if vr in mt.NUMBER_VRS else ""
    return _value_from_json(elem.tag, stored.get("vr", vr), stored)


def _needs_utf8(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii()
    if isinstance(value, list):
        return any(_needs_utf8(v) for v in value)
    return False


#: One result: its elements as (tag, VR, value), in tag order.
Elements = list[tuple[int, str, Any]]


def _slot(
    elem: DataElement,
    vr: str,
    p: _Plan,
    labels: dict[int, sa.ColumnElement[Any]],
    computed: dict[int, dict[int, Any]],
) -> Callable[[Any], Any]:
    """How the value of a requested key is read from a matching row: ``labels`` has
    the row's columns (a key kept only in the level's attributes gets one added
    here), ``computed`` will have the counts and modalities of the rows, by pk."""
    tag = int(elem.tag)
    if tag in p.below:
        if vr == "SQ":
            return lambda r: Sequence([])
        empty = None if vr in mt.NUMBER_VRS else ""
        return lambda r: empty
    if tag in labels:
        name = labels[tag].name
        return lambda r: _column_value(vr, getattr(r, name))
    if tag in COMPUTED and COMPUTED[tag][0] == p.level:
        computed[tag] = {}
        by_pk = computed[tag]
        if tag == MODALITIES_IN_STUDY:
            return lambda r: _modalities_value(by_pk.get(r.pk))
        return lambda r: int(by_pk.get(r.pk) or 0)
    if tag == INSTANCE_AVAILABILITY:
        return lambda r: "ONLINE"
    # the stored element alone, from the attributes kept at the level (JSON in SQL)
    column = _TABLE[p.level].c.attrs[f"{tag:08X}"].label(f"a{tag:08x}")
    labels[tag] = column
    name = column.name
    return lambda r: _stored_value(elem, vr, getattr(r, name))


def _unique_slot(name: str) -> Callable[[Any], Any]:
    return lambda r: getattr(r, name) or ""


def _modalities_value(v: list[str] | None) -> Any:
    return (v[0] if len(v) == 1 else list(v)) if v else ""


def matches(
    engine: sa.Engine,
    identifier: Dataset,
    model: str = STUDY_ROOT,
    *,
    cancel: Callable[[], bool] | None = None,
    retrieve_ae_title: str | None = None,
) -> Iterator[Elements]:
    """The matches of a C-FIND ``identifier``, each as the elements of its result data
    set (see :func:`find`, which makes them data sets; QIDO-RS turns them into the
    JSON model without one)."""
    p = plan(identifier, model)
    level = p.level
    wanted_cols: dict[int, sa.Column[Any]] = {}
    for e in p.elements:
        if e.tag in KEYS and e.tag not in p.below:
            wanted_cols[int(e.tag)] = KEYS[e.tag].value
    roots = LEVELS[_DEPTH[p.model] : _DEPTH[level] + 1]
    unique_extra = [UNIQUE[lv] for lv in roots if UNIQUE[lv] not in {e.tag for e in p.elements}]
    for tag in unique_extra:
        wanted_cols[tag] = KEYS[tag].value
    if level == "IMAGE":
        wanted_cols.setdefault(0x00080018, instances.c.sop_instance_uid)
    labels: dict[int, sa.ColumnElement[Any]] = {
        tag: col.label(f"k{tag:08x}") for tag, col in wanted_cols.items()
    }
    computed: dict[int, dict[int, Any]] = {}
    slots: list[tuple[int, str, Callable[[Any], Any]]] = []
    for e in p.elements:
        vr = e.VR if e.VR not in ("UN", "") else dictionary_vr(e.tag)
        if e.tag == RETRIEVE_AE_TITLE and retrieve_ae_title:
            slots.append((RETRIEVE_AE_TITLE, vr, lambda r: retrieve_ae_title))
        else:
            slots.append((int(e.tag), vr, _slot(e, vr, p, labels, computed)))
    for tag in unique_extra:
        slots.append((tag, dictionary_vr(tag), _unique_slot(labels[tag].name)))
    slots.append((QUERY_RETRIEVE_LEVEL, "CS", lambda r: level))
    slots.sort(key=lambda s: s[0])
    extra: list[sa.ColumnElement[Any]] = list(labels.values())
    if level == "IMAGE":
        extra.append(instances.c.sop_instance_uid)
    with engine.connect() as conn:
        rows = _matching_rows(conn, p, extra)
        pks = [r.pk for r in rows]
        for tag, by_pk in computed.items():
            by_pk.update(_computed(conn, level, COMPUTED[tag][1], pks))
    if p.computed_matchers:
        keep = []
        for r in rows:
            ok = True
            for tag, matcher in p.computed_matchers:
                v = computed.get(tag, {}).get(r.pk)
                if tag == MODALITIES_IN_STUDY:
                    ok = matcher.match(v or [])
                else:
                    ok = matcher.match(str(v if v is not None else 0))
                if not ok:
                    break
            if ok:
                keep.append(r)
        rows = keep
    charset = (SPECIFIC_CHARACTER_SET, "CS", "ISO_IR 192")
    for r in rows:
        if cancel is not None and cancel():
            return
        out = [(tag, vr, get(r)) for tag, vr, get in slots]
        if any(_needs_utf8(v) for _, _, v in out):
            out.insert(0, charset)  # (0008,0005) sorts before every key
        yield out


def find(
    engine: sa.Engine,
    identifier: Dataset,
    model: str = STUDY_ROOT,
    *,
    cancel: Callable[[], bool] | None = None,
    retrieve_ae_title: str | None = None,
) -> Iterator[Dataset]:
    """C-FIND: yield one result data set per match of ``identifier``.

    ``model``: ``"PATIENT"`` (Patient Root), ``"STUDY"`` (Study Root) or the
    C-FIND SOP Class UID.  The identifier is checked before the first result
    (a :class:`QueryError` is raised from the first ``next()``).  ``cancel``
    is called before each result; when it returns true (a C-CANCEL arrived)
    the generator stops — as it does when the caller closes it.
    ``retrieve_ae_title`` fills Retrieve AE Title when it is asked for."""
    for elements in matches(
        engine, identifier, model, cancel=cancel, retrieve_ae_title=retrieve_ae_title
    ):
        out = Dataset()
        for tag, vr, value in elements:
            out[tag] = _element(tag, vr, value)
        yield out


def instances_for(
    engine: sa.Engine, identifier: Dataset, level: str | None = None, model: str = STUDY_ROOT
) -> list[tuple[str, str, str, str]]:
    """C-MOVE/C-GET: ``(relative path, SOP Class UID, SOP Instance UID, Transfer
    Syntax UID)`` of every instance under the matches of ``identifier`` (one file
    per instance: the first copy).  ``level`` overrides the identifier's
    Query/Retrieve Level."""
    if level is not None:
        ident = Dataset(identifier)
        ident[QUERY_RETRIEVE_LEVEL] = _element(QUERY_RETRIEVE_LEVEL, "CS", level)
        identifier = ident
    p = plan(identifier, model)
    with engine.connect() as conn:
        pks = [
            r.pk
            for r in _matching_rows(
                conn, p, [instances.c.sop_instance_uid] if p.level == "IMAGE" else []
            )
        ]
        if not pks:
            return []
        fk = {
            "PATIENT": studies.c.patient_pk,
            "STUDY": series.c.study_pk,
            "SERIES": instances.c.series_pk,
            "IMAGE": instances.c.pk,
        }[p.level]
        base: sa.FromClause = instances
        if p.level in ("PATIENT", "STUDY"):
            base = base.join(series, instances.c.series_pk == series.c.pk)
        if p.level == "PATIENT":
            base = base.join(studies, series.c.study_pk == studies.c.pk)
        out: list[tuple[str, str, str, str]] = []
        seen: set[str] = set()
        for chunk in _chunks(pks):
            q = (
                sa.select(
                    instances.c.path,
                    instances.c.sop_class_uid,
                    instances.c.sop_instance_uid,
                    instances.c.transfer_syntax_uid,
                )
                .select_from(base)
                .where(fk.in_(chunk))
                .order_by(instances.c.pk, instances.c.copy)
            )
            for row in conn.execute(q):
                if row.sop_instance_uid not in seen:
                    seen.add(row.sop_instance_uid)
                    out.append(tuple(row))
        return out
