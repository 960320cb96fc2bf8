"""The service catalogue (事项目录): what a center handles, and how its results may travel."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Self

import attrs

from govpost._fields import ID as _CODE
from govpost._fields import coerce_enum, short, text
from govpost.centers import BusinessLine
from govpost.errors import DeserializationError, GovpostError, ValidationError

#: The longest approval time limit a service may promise, in working days (about a year and a
#: half): beyond it a number is surely a mistake of units.
MAX_TIME_LIMIT_DAYS = 365


def service_code(value: object) -> str:
    """The one rule for service codes: 1-64 ASCII letters, digits, ``-``, ``_``, ``.``, ``:``."""
    if isinstance(value, Service):
        return value.code
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise ValidationError(
            f"service code {short(value, code=True)} must be 1-64 letters, digits, '-', '_', '.' or ':', "
            f"starting with a letter or digit (e.g. 'GZ-SCJG-001')"
        )
    return value


def _code(instance: object, attribute: object, value: str) -> None:
    given: object = value
    if isinstance(given, Service):
        raise ValidationError("a service's code is a str: pass service.code, not the service")
    service_code(given)


def _name(value: str) -> str:
    return text(value, "service name", max_len=200)


def _line(value: BusinessLine | str) -> BusinessLine:
    return coerce_enum(BusinessLine, value, "business line")


def _time_limit(value: int) -> int:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int):
        raise ValidationError(
            f"time limit {short(given)} must be an int number of working days (承诺时限), e.g. 5; "
            f"0 means decided on the spot (即办件)"
        )
    if not 0 <= given <= MAX_TIME_LIMIT_DAYS:
        raise ValidationError(
            f"time limit {short(given)} working days must be between 0 (即办件) and "
            f"{MAX_TIME_LIMIT_DAYS}"
        )
    return given


@attrs.frozen(kw_only=True)
class Service:
    """A service (事项) of the catalogue: what an applicant applies for.

    Args:
        code: the service's code in the catalogue, e.g. ``"GZ-SCJG-001"``.
        name: its official name, e.g. ``"营业执照核发"``.
        business_line: the line of cooperation its results travel under.
        time_limit_days: the approval time limit promised to the applicant (承诺时限), in
            working days counted from the working day after acceptance; ``0`` for a service
            decided on the spot (即办件).
        result_by_post: whether the result may be mailed to the applicant.
        materials_by_post: whether the application materials may be mailed in.

    Raises:
        ValidationError: a malformed code, a blank name, an unknown line, a time limit that is
            not an int of 0-365 working days.

    >>> Service(code="GZ-SCJG-001", name="营业执照核发", business_line="licence_delivery",
    ...         time_limit_days=3)
    Service(code='GZ-SCJG-001', name='营业执照核发', business_line=<BusinessLine.LICENCE_DELIVERY: 'licence_delivery'>, time_limit_days=3, result_by_post=True, materials_by_post=False)

    .. versionadded:: 0.2.0
    """

    code: str = attrs.field(validator=_code)
    name: str = attrs.field(converter=_name)
    business_line: BusinessLine = attrs.field(converter=_line)
    time_limit_days: int = attrs.field(converter=_time_limit)
    result_by_post: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    materials_by_post: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool)
    )


def _services(values: Iterable[Service]) -> tuple[Service, ...]:
    given: object = values
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise ValidationError(f"services {short(given, code=True)} must be a collection of Service")
    found: dict[str, Service] = {}
    for service in given:
        if not isinstance(service, Service):
            raise ValidationError(
                f"services must be Service values, not {short(service, code=True)}"
            )
        if service.code in found and found[service.code] != service:
            raise ValidationError(
                f"service code {service.code!r} is listed twice with different content "
                f"({found[service.code].name!r} and {service.name!r}): give each service its "
                f"own code"
            )
        found[service.code] = service
    return tuple(sorted(found.values(), key=lambda s: s.code))


def _reference(value: str | None) -> str | None:
    return None if value is None else text(value, "catalogue reference", max_len=500)


@attrs.frozen(kw_only=True)
class ServiceCatalogue:
    """The services (事项目录) a deployment handles, looked up by code.

    Kept as data files: :meth:`from_toml` / :meth:`to_toml` and :meth:`from_json` /
    :meth:`to_json` read and write it through govpost's one wire format. The services are held
    sorted by code; the same service listed twice counts once, one code with two different
    services is refused.

    Args:
        services: the services.
        reference: where the catalogue comes from (the published list, its date), or a note
            such as ``"SAMPLE DATA"``.

    >>> catalogue = ServiceCatalogue(services=[
    ...     Service(code="JJ-001", name="机动车驾驶证换证", business_line="police",
    ...             time_limit_days=1),
    ... ])
    >>> catalogue.lookup("JJ-001").name
    '机动车驾驶证换证'
    >>> catalogue.lookup("JJ-999")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: unknown service code 'JJ-999': the catalogue (1 services) has no such service; check the code, or add the service to the catalogue file (e.g. 'JJ-001' 机动车驾驶证换证)

    .. versionadded:: 0.2.0
    """

    services: tuple[Service, ...] = attrs.field(converter=_services)
    reference: str | None = attrs.field(default=None, converter=_reference)
    _by_code: dict[str, Service] = attrs.field(
        init=False, eq=False, hash=False, repr=False, factory=dict
    )

    def __attrs_post_init__(self) -> None:
        self._by_code.update((s.code, s) for s in self.services)

    def lookup(self, code: str) -> Service:
        """The service of ``code``.

        Raises:
            ValidationError: no service has that code; the message names it and how to fix it.
        """
        found = self._by_code.get(code) if isinstance(code, str) else None
        if found is None:
            example = (
                f" (e.g. {self.services[0].code!r} {self.services[0].name})"
                if self.services
                else ""
            )
            raise ValidationError(
                f"unknown service code {short(code, code=True)}: the catalogue ({len(self.services)} "
                f"services) has no such service; check the code, or add the service to the "
                f"catalogue file{example}"
            )
        return found

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._by_code

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services)

    def __len__(self) -> int:
        return len(self.services)

    def by_line(self, line: BusinessLine | str) -> tuple[Service, ...]:
        """The services of one business line, by code.

        >>> catalogue = ServiceCatalogue(services=[
        ...     Service(code="S1", name="营业执照核发", business_line="licence_delivery",
        ...             time_limit_days=3)])
        >>> [s.code for s in catalogue.by_line("licence_delivery")], catalogue.by_line("tax")
        (['S1'], ())
        """
        wanted = _line(line)
        return tuple(s for s in self.services if s.business_line is wanted)

    # -- files ---------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """A catalogue from a JSON document in govpost's wire format.

        Raises:
            DeserializationError: not JSON, or naming the path of every bad field.
        """
        from govpost.serialization import from_json

        try:
            return from_json(text, cls)
        except DeserializationError as exc:
            raise _pinpointed(exc, text, cls, _json_data) from exc

    def to_json(self, *, indent: int | None = 2) -> str:
        """The catalogue as a JSON document that :meth:`from_json` reads back unchanged."""
        from govpost.serialization import to_json

        return to_json(self, indent=indent)

    @classmethod
    def from_toml(cls, text: str | bytes) -> Self:
        """A catalogue from a TOML document: ``reference`` and an array ``[[services]]``.

        The document is the same structure as the JSON wire format, read by the same converter.

        Raises:
            DeserializationError: not TOML, nested too deeply, or naming the path of every bad
                field (``@ $.services[2].time_limit_days``).

        >>> catalogue = ServiceCatalogue.from_toml('''
        ... reference = "SAMPLE DATA"
        ... [[services]]
        ... code = "SW-001"
        ... name = "增值税发票领用"
        ... business_line = "tax"
        ... time_limit_days = 1
        ... ''')
        >>> catalogue.lookup("SW-001").business_line.label
        '税邮合作'
        """
        from govpost.serialization import from_toml

        try:
            return from_toml(text, cls)
        except DeserializationError as exc:
            raise _pinpointed(exc, text, cls, _toml_data) from exc

    def to_toml(self) -> str:
        """The catalogue as a TOML document that :meth:`from_toml` reads back unchanged.

        >>> catalogue = ServiceCatalogue(services=[Service(
        ...     code="S1", name="营业执照核发", business_line="licence_delivery",
        ...     time_limit_days=3)])
        >>> ServiceCatalogue.from_toml(catalogue.to_toml()) == catalogue
        True
        """
        from govpost.serialization import to_toml

        return to_toml(self)


def _json_data(text: str | bytes) -> object:
    from govpost._limits import load_json

    return load_json(text, what="the catalogue")


def _toml_data(text: str | bytes) -> object:
    return tomllib.loads(text.decode("utf-8") if isinstance(text, bytes | bytearray) else text)


def _pinpointed(
    exc: DeserializationError,
    text: str | bytes,
    cls: type[Any],
    parse: Callable[[str | bytes], object],
) -> DeserializationError:
    """``exc`` naming the field whose own check refused it (``@ $.services[2].code``).

    Only an error with a path comes from a document that parsed (and passed the depth and
    size checks): the text is parsed again, cheaply, to find the field.
    """
    from govpost.applications._wire import pinpointed

    if " @ $" not in str(exc):
        return exc
    try:
        data = parse(text)
    except (GovpostError, ValueError):  # pragma: no cover - it parsed a moment ago
        return exc
    return pinpointed(exc, data, cls)
