"""Import of FollowTheMoney line-delimited JSON into the entity registry, batch by batch.

Each batch (``BATCH_SIZE`` lines) is all or nothing: every line is checked (the FtM model
through ``app.exchange.ftm``, then Tollgate's own rules through ``app.intel.validation``, the
same as any other way in) and the batch is stored only when no line of it is wrong; a
refused batch leaves nothing behind (a savepoint), and its errors name each line and the
reason. The caller commits after each stored batch (``tollgate intel import-ftm`` does), so
a file of any size streams through in constant memory apart from the FtM id -> entity map.

Imported entities and links belong to the importer's unit with the handling code given
(or the line's own ``handling_code`` when it is stricter). An entity holding an identifier
already registered on an entity the importer may see is that entity (reused, not copied);
links are added to it. Entities that are not in the file yet when a link or identification
names them are waited for in the following batches; the ones never found are errors of the
last batch. New entities are proposed as resolution candidates, never merged.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from app.core.errors import ValidationError
from app.exchange import ftm
from app.exchange.ftm_map import (
    ATTRIBUTE_PROPS,
    IDENTIFICATION_SCHEMATA,
    IDENTIFIER_PROPS,
    LINK_SCHEMATA,
    NAME_PROPS,
    SCHEMA_TYPES,
    SKIPPED_PROPS,
    link_kind,
)
from app.extensions import db
from app.intel import identifiers, service, validation
from app.intel.bulk import EntityBatch
from app.security.access import Actor

BATCH_SIZE = 1_000
#: errors named per refused batch (the rest are counted)
MAX_ERRORS = 50
_FROM_ATTRIBUTE = {prop: key for key, prop in ATTRIBUTE_PROPS.items()}
_STRICTER = {("P", "C"): "C", ("C", "P"): "C"}


@dataclass
class BatchResult:
    first_line: int
    last_line: int
    created: list[int] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)
    links: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: the last result of a run: links and identifications whose entities never came
    waiting: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Pending:
    """A link or an identification waiting for the entities it names."""

    line: int
    ftm_id: str
    ends: tuple[str, ...]
    values: dict


class FtmImport:
    """One import run: ``for result in FtmImport(actor, "C").run(stream): commit``."""

    def __init__(self, actor: Actor, handling_code: str, *, skip_unsupported=False):
        actor.require("entity.edit")
        if handling_code not in ("P", "C"):
            raise ValidationError({"handling_code": "must be P or C"})
        validation.check_handling(handling_code, actor.unit_id)
        self.actor = actor
        self.handling_code = handling_code
        self.skip_unsupported = skip_unsupported
        #: FtM id -> Tollgate entity id, of everything stored by this run
        self.ids: dict[str, int] = {}
        self.waiting: list[_Pending] = []

    def run(self, stream: Iterable[bytes], batch_size: int = BATCH_SIZE) -> Iterator[BatchResult]:
        """Read ``stream`` and store it batch by batch; one result per batch (the caller
        commits after each). Lines waiting for entities never found end in a last result."""
        lines = _numbered(stream)
        for chunk in ftm.batches(lines, batch_size):
            yield self._batch(chunk)
        if self.waiting:
            last = self.waiting[-1].line
            first = min(p.line for p in self.waiting)
            result = BatchResult(first, max(last, *(p.line for p in self.waiting)), waiting=True)
            for pending in self.waiting:
                missing = [e for e in pending.ends if e not in self.ids]
                _error(result, pending.line, pending.ftm_id, f"no entity {missing[0]!r} stored")
            self.waiting = []
            yield result

    def _batch(self, chunk) -> BatchResult:
        result = BatchResult(chunk[0][0], chunk[-1][0])
        waiting_before = list(self.waiting)
        savepoint = db.session.begin_nested()
        try:
            new_ids = self._store(chunk, result)
        except BaseException:
            savepoint.rollback()
            self.waiting = waiting_before
            raise
        if result.errors:
            savepoint.rollback()  # nothing of a refused batch remains, nor waits
            self.waiting = waiting_before
            result.created, result.reused, result.links = [], [], 0
            return result
        savepoint.commit()
        self.ids.update(new_ids)
        return result

    def _store(self, chunk, result: BatchResult) -> dict[str, int]:
        nodes, pending = {}, list(self.waiting)
        for number, raw in chunk:
            try:
                proxy = ftm.parse_line(raw, number)
            except ftm.FtmLineError as exc:
                _error(result, number, exc.entity_id, exc.reason)
                continue
            self._read(number, proxy, nodes, pending, result)
        self._attach_identifications(nodes, pending)
        batch = EntityBatch(self.actor)
        entities = self._entities(batch, nodes, result)
        ready, self.waiting = _split_ready(pending, {*self.ids, *entities})
        if result.errors:
            return {}
        known = {
            **{
                k: service.get_entity(v, actor=self.actor, log=False)
                for k, v in self._stored_ends(ready).items()
            },
            **entities,
        }
        for item in ready:
            self._link(batch, item, known, result)
        if result.errors:
            return {}
        new, links = batch.write(propose=True)
        result.created = [e.id for e in new]
        result.links = len(links)
        self._store_identifications(ready, known, result)
        return {k: e.id for k, e in entities.items()}

    def _stored_ends(self, ready) -> dict[str, int]:
        ends = {e for item in ready for e in item.ends}
        return {e: self.ids[e] for e in ends if e in self.ids}

    def _read(self, number, proxy, nodes, pending, result) -> None:
        schema = proxy.schema.name
        handling = self._handling(proxy, number, result)
        if schema in SCHEMA_TYPES:
            if proxy.id in nodes or proxy.id in self.ids:
                _error(result, number, proxy.id, "this entity id is already in the file")
                return
            nodes[proxy.id] = (number, proxy, handling)
            for address in proxy.get("addressEntity"):
                kind = "lives_at" if SCHEMA_TYPES[schema] == "person" else "registered_at"
                values = {"link_type": kind, "handling_code": handling}
                pending.append(_Pending(number, proxy.id, (proxy.id, address), values))
        elif schema in IDENTIFICATION_SCHEMATA:
            self._read_identification(number, proxy, pending, result)
        elif schema in LINK_SCHEMATA:
            self._read_link(number, proxy, handling, pending, result)
        elif self.skip_unsupported:
            result.skipped[schema] = result.skipped.get(schema, 0) + 1
        else:
            _error(result, number, proxy.id, f"schema {schema!r} has no place in the registry")

    def _handling(self, proxy, number, result) -> str:
        code = proxy.context.get("handling_code", self.handling_code)
        if code not in ("P", "C"):
            _error(result, number, proxy.id, "handling_code must be P or C")
            return self.handling_code
        return _STRICTER.get((self.handling_code, code), code)

    def _read_identification(self, number, proxy, pending, result) -> None:
        scheme = "passport" if proxy.schema.name == "Passport" else None
        kind = (proxy.first("type") or "").strip().lower().replace(" ", "_")
        scheme = scheme or (kind if kind in identifiers.SCHEMES else None)
        numbers = proxy.get("number") or proxy.get("passportNumber")
        if scheme is None:
            _error(result, number, proxy.id, f"identification type {kind!r} is not a scheme")
            return
        for holder in proxy.get("holder")[:1]:
            values = {"scheme": scheme, "value": numbers[0] if numbers else ""}
            pending.append(_Pending(number, proxy.id, (holder,), values))

    def _read_link(self, number, proxy, handling, pending, result) -> None:
        schema = proxy.schema.name
        kind = link_kind(schema, proxy, validation.LINK_TYPES)
        if kind is None:
            if self.skip_unsupported:
                result.skipped[schema] = result.skipped.get(schema, 0) + 1
                return
            role = proxy.first("role")
            _error(result, number, proxy.id, f"role {role!r} is not a Tollgate link kind")
            return
        _, source, target = LINK_SCHEMATA[schema]
        values = {"link_type": kind, "handling_code": handling, "grade": proxy.context.get("grade")}
        for prop in ("startDate", "endDate"):
            dates = proxy.get(prop)
            if len(dates) > 1:
                _error(result, number, proxy.id, f"{prop} has {len(dates)} values; a link has one")
            elif dates and len(dates[0]) != 10:
                _error(result, number, proxy.id, f"{prop} {dates[0]!r} is not a full date")
            values["start_date" if prop == "startDate" else "end_date"] = (dates or [None])[0]
        ends = (proxy.first(source), proxy.first(target))
        pending.append(_Pending(number, proxy.id, ends, values))

    def _attach_identifications(self, nodes, pending) -> None:
        """Identifiers for entities of this batch join them before they are checked."""
        for item in list(pending):
            holder = item.ends[0]
            if "scheme" in item.values and holder in nodes:
                number, proxy, handling = nodes[holder]
                proxy.context.setdefault("_identifiers", {})[item.values["scheme"]] = item.values[
                    "value"
                ]
                pending.remove(item)

    def _entities(self, batch: EntityBatch, nodes, result) -> dict:
        out = {}
        for ftm_id, (number, proxy, handling) in nodes.items():
            try:
                values = entity_values(proxy)
                ids = validation.check_identifiers(values["entity_type"], values["identifiers"])
                held = service.registered_holder(ids, actor=self.actor)
                if held is not None:
                    out[ftm_id] = held[1]
                    result.reused.append(held[1].id)
                    continue
                out[ftm_id] = batch.entity(
                    **values, handling_code=handling, provenance=("import", None)
                )
            except ValidationError as exc:
                for key, message in exc.fields.items():
                    _error(result, number, ftm_id, f"{key}: {message}")
        return out

    def _link(self, batch, item: _Pending, known, result) -> None:
        if "scheme" in item.values:
            return
        try:
            source, target = (known[e] for e in item.ends)
            batch.link(source, target, provenance_type="import", **item.values)
        except ValidationError as exc:
            for key, message in exc.fields.items():
                _error(result, item.line, item.ftm_id, f"{key}: {message}")

    def _store_identifications(self, ready, known, result) -> None:
        """Identifiers whose holder was stored by an earlier batch."""
        for item in ready:
            if "scheme" not in item.values:
                continue
            holder = known[item.ends[0]]
            merged = {**(holder.identifiers or {}), item.values["scheme"]: item.values["value"]}
            try:
                service.update_entity(holder, actor=self.actor, identifiers=merged)
            except ValidationError as exc:
                for key, message in exc.fields.items():
                    _error(result, item.line, item.ftm_id, f"{key}: {message}")


def entity_values(proxy) -> dict:
    """Tollgate's entity fields from an FtM proxy (not yet validated)."""
    entity_type = SCHEMA_TYPES[proxy.schema.name]
    names = proxy.get("full") + proxy.get("name") if entity_type == "address" else []
    names = names or proxy.get("name")
    for prop in NAME_PROPS[1:]:
        names = names + proxy.get(prop)
    if entity_type == "bank_account" and not names:
        names = proxy.get("iban") + proxy.get("accountNumber")
    names = list(dict.fromkeys(" ".join(n.split()) for n in names if n.strip()))
    ident_props = IDENTIFIER_PROPS.get(entity_type, {})
    idents, attributes = dict(proxy.context.get("_identifiers", {})), {}
    for scheme, prop in ident_props.items():
        values = proxy.get(prop)
        if values:
            idents[scheme] = values[0]
        if len(values) > 1:  # one value per scheme: the others are kept, not lost
            attributes[prop] = values[1:]
    for prop in proxy.iterprops():
        if prop.name in SKIPPED_PROPS or prop.name in ident_props.values():
            continue
        values = proxy.get(prop)
        if prop.type.name == "country":  # FtM writes ISO codes in lower case, Tollgate upper
            values = [v.upper() for v in values]
        key = _FROM_ATTRIBUTE.get(prop.name, prop.name)
        attributes[key] = values[0] if len(values) == 1 else values
    return {
        "entity_type": entity_type,
        "name": names[0] if names else "",
        "aliases": names[1:],
        "identifiers": idents,
        "attributes": attributes,
    }


def _numbered(stream) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(stream, 1):
        if raw.strip():
            yield number, raw


def _split_ready(pending, known) -> tuple[list, list]:
    ready, waiting = [], []
    for item in pending:
        (ready if all(e in known for e in item.ends) else waiting).append(item)
    return ready, waiting


def _error(result: BatchResult, line: int, entity_id, reason: str) -> None:
    if len(result.errors) >= MAX_ERRORS:
        result.errors["more"] = "further errors in this batch are not listed"
        return
    where = f"line {line}" + (f" (entity {entity_id})" if entity_id else "")
    key, n = where, 2
    while key in result.errors:
        key, n = f"{where} #{n}", n + 1
    result.errors[key] = reason
