"""Reference data: centers, agreements, rate cards, the service catalogue (private).

Each is upserted by its key: writing the same record again changes nothing; writing a changed
one replaces it (reference data is edited, not appended).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

import sqlalchemy as sa

from govpost._fields import short
from govpost.agreements import FeeAgreement
from govpost.applications import Service, ServiceCatalogue
from govpost.centers import ServiceCenter
from govpost.errors import StoreError, ValidationError
from govpost.ratecards import RateCard
from govpost.serialization import to_json
from govpost.store import _schema as t
from govpost.store._base import Repository
from govpost.store._codec import check_key, check_row

__all__ = ["Agreements", "Catalogue", "Centers", "RateCards", "upsert"]

M = TypeVar("M")


#: Columns that differ between two writes of the same record: a sealed document (its nonce is
#: new each time) and the key that sealed it; ``version`` tells whether the record changed.
_RESEALED = frozenset({"document", "key_id"})


def upsert(connection: sa.Connection, table: sa.Table, row: dict[str, Any]) -> bool:
    """Insert ``row``, or update the row with its primary key; whether anything changed."""
    check_row(table, row)
    keys = {column.name for column in table.primary_key.columns}
    where = sa.and_(*(table.c[name] == row[name] for name in keys))
    current = connection.execute(sa.select(table).where(where)).mappings().first()
    if current is None:
        connection.execute(sa.insert(table), row)
        return True
    sealed = "version" in row
    if all(
        current[name] == value for name, value in row.items() if not (sealed and name in _RESEALED)
    ):
        return False
    connection.execute(sa.update(table).where(where).values(row))
    return True


class _Keyed(Repository, Generic[M]):
    """Records of one model kept as documents in clear, one row per key (reference data)."""

    #: The table, its key column, the model, and how messages name one record.
    table: ClassVar[sa.Table]
    key: ClassVar[str]
    model: ClassVar[type]
    what: ClassVar[str]

    def _row(self, item: M) -> dict[str, Any]:
        raise NotImplementedError

    def _after(self, connection: sa.Connection, item: M) -> None:
        """Write what else a record keeps beside its row (nothing, unless overridden)."""

    def _upsert(self, items: Iterable[M]) -> int:
        """Record ``items`` (new or changed), all in one transaction; how many changed."""
        values = tuple(items)
        for item in values:
            if not isinstance(item, self.model):
                raise ValidationError(
                    f"{self.table.name}.upsert takes {self.model.__name__} values, not "
                    f"{type(item).__name__}"
                )
        changed = 0
        with self._begin(f"upsert {self.table.name}") as connection:
            for item in values:
                changed += upsert(
                    connection, self.table, {**self._row(item), "document": to_json(item)}
                )
                self._after(connection, item)
        return changed

    def _read(self, rows: Iterable[Any]) -> tuple[M, ...]:
        found = []
        for key, document in rows:
            item: M = self._codec.read(document, self.model, f"{self.what} {key}")
            # A document in clear is not bound to its row (a sealed one is): one copied into
            # another row would be read as that row's record.
            if self._row(item)[self.key] != key:
                raise StoreError(
                    f"{self.what} {key} in the store holds the document of another "
                    f"{self.what}: the row was changed outside govpost; restore it"
                )
            found.append(item)
        return tuple(found)

    def _select(self, *where: sa.ColumnElement[bool], join: Any = None) -> tuple[M, ...]:
        key = self.table.c[self.key]
        query = sa.select(key, self.table.c.document)
        if join is not None:
            query = query.join(*join)
        with self._begin(f"read {self.table.name}", read=True) as connection:
            return self._read(connection.execute(query.where(*where).order_by(key)).all())

    def get(self, key: str) -> M | None:
        """The record of ``key``, or ``None``."""
        found = self._select(self.table.c[self.key] == check_key(key, f"{self.what} key"))
        return found[0] if found else None

    def all(self) -> tuple[M, ...]:
        """Every record, in key order."""
        return self._select()


class Centers(_Keyed[ServiceCenter]):
    """Service centers, by code."""

    table, key, model, what = t.centers, "code", ServiceCenter, "center"

    def upsert(self, *centers: ServiceCenter) -> int:
        """Record ``centers`` (new or changed); return how many changed."""
        return self._upsert(centers)

    def _row(self, center: ServiceCenter) -> dict[str, Any]:
        mode = center.mode
        return {
            "code": center.code,
            "division": center.division.code,
            "mode": None if mode is None else mode.value,
        }


class Agreements(_Keyed[FeeAgreement]):
    """Fee agreements, by id, with the centers each covers."""

    table, key, model, what = t.agreements, "agreement_id", FeeAgreement, "agreement"

    def upsert(self, *agreements: FeeAgreement) -> int:
        """Record ``agreements`` (new or changed); return how many changed."""
        return self._upsert(agreements)

    def _row(self, agreement: FeeAgreement) -> dict[str, Any]:
        return {
            "agreement_id": agreement.id,
            "carrier": agreement.carrier,
            "valid_from": agreement.valid_from,
            "valid_until": agreement.valid_until,
        }

    def _after(self, connection: sa.Connection, agreement: FeeAgreement) -> None:
        links = t.agreement_centers
        connection.execute(sa.delete(links).where(links.c.agreement_id == agreement.id))
        connection.execute(
            sa.insert(links),
            [
                check_row(links, {"agreement_id": agreement.id, "center": code})
                for code in sorted(agreement.centers)
            ],
        )

    def require(self, agreement_id: str) -> FeeAgreement:
        """The agreement ``agreement_id``; a :class:`StoreError` if the store has none."""
        found = self.get(agreement_id)
        if found is None:
            raise StoreError(
                f"the store has no agreement {short(agreement_id, code=True)}: record it first "
                f"with "
                f"store.agreements.upsert(agreement)"
            )
        return found

    def for_center(self, code: str) -> tuple[FeeAgreement, ...]:
        """The agreements that cover center ``code``, in id order."""
        links = t.agreement_centers
        return self._select(
            links.c.center == check_key(code, "center code"),
            join=(links, links.c.agreement_id == t.agreements.c.agreement_id),
        )


class RateCards(_Keyed[RateCard]):
    """Rate cards, by name."""

    table, key, model, what = t.rate_cards, "name", RateCard, "rate card"

    def upsert(self, *cards: RateCard) -> int:
        """Record ``cards`` (new or changed); return how many changed."""
        return self._upsert(cards)

    def _row(self, card: RateCard) -> dict[str, Any]:
        return {"name": card.name}


class Catalogue(_Keyed[Service]):
    """The service catalogue (事项目录): one row per service, by code."""

    table, key, model, what = t.services, "code", Service, "service"

    def upsert(self, services: ServiceCatalogue | Iterable[Service]) -> int:
        """Record each service (new or changed); return how many changed."""
        if isinstance(services, ServiceCatalogue):
            return self._upsert(services.services)
        return self._upsert(services)

    def _row(self, service: Service) -> dict[str, Any]:
        return {"code": service.code, "business_line": service.business_line.value}

    def load(self) -> ServiceCatalogue:
        """The whole catalogue, services in code order."""
        return ServiceCatalogue(services=self.all())
