"""Discovery of carrier adapters through the ``govpost.carriers`` entry-point group."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from govpost.carriers._model import Carrier, check_declared
from govpost.errors import GovpostError, UnknownCarrierError, ValidationError

__all__ = ["GROUP", "available", "load"]

#: The entry-point group in which carrier adapters register their factory.
GROUP = "govpost.carriers"


def _registered() -> dict[str, list[EntryPoint]]:
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=GROUP):
        same = found.setdefault(ep.name, [])
        # One distribution may be seen twice on sys.path (an editable install and a build
        # directory, say); only different targets under one name are a conflict.
        if all(other.value != ep.value for other in same):
            same.append(ep)
    return found


def available() -> list[str]:
    """The names of the carrier adapters installed, sorted.

    >>> {"ems", "sandbox"} <= set(available())
    True

    .. versionadded:: 0.1.0
    """
    return sorted(_registered())


def load(name: str, **config: Any) -> Carrier:
    """Find the carrier adapter registered as ``name`` and build it with ``config``.

    Adapters register a factory (usually their class) in the entry-point group
    ``govpost.carriers`` of their package metadata, for example in ``pyproject.toml``::

        [project.entry-points."govpost.carriers"]
        acme = "acme_carrier:AcmeCarrier"

    Args:
        name: the registered name, e.g. ``"sandbox"`` or ``"ems"``.
        **config: keyword arguments passed to the adapter's factory.

    Returns:
        The adapter; its declared capabilities are checked to be implemented.

    Raises:
        UnknownCarrierError: no adapter has that name, two installed packages claim it, its
            module fails to import, its factory fails with a non-govpost exception (such as a
            ``TypeError`` for an unknown keyword; the exception is chained as the cause and
            named in the message; only config key names are shown, never values), or the
            factory does not give a carrier.
        ValidationError: the adapter refused ``config`` (any govpost error of the factory
            passes through unchanged).

    >>> load("sandbox", seed=7).name
    'sandbox'
    >>> load("pigeon")
    Traceback (most recent call last):
    ...
    govpost.errors.UnknownCarrierError: no carrier adapter named 'pigeon' is installed ...

    .. versionadded:: 0.1.0
    """
    if not isinstance(name, str) or not name:
        raise ValidationError(f"carrier name {name!r} must be a non-empty string such as 'ems'")
    registered = _registered()
    candidates = registered.get(name, [])
    if not candidates:
        names = ", ".join(sorted(registered)) or "none"
        raise UnknownCarrierError(
            f"no carrier adapter named {name!r} is installed (installed: {names}); install the "
            f"package that provides it: it registers an entry point in the group {GROUP!r}",
            code="unknown_carrier",
        )
    if len(candidates) > 1:
        targets = ", ".join(sorted(ep.value for ep in candidates))
        raise UnknownCarrierError(
            f"carrier name {name!r} is claimed by several installed packages ({targets}): "
            f"uninstall all but one",
            code="ambiguous_carrier",
        )
    ep = candidates[0]
    try:
        factory = ep.load()
    except Exception as exc:
        # A plug-in that cannot be imported must be loud, never a silent absence: name the
        # cause here and chain the original exception with its traceback.
        raise UnknownCarrierError(
            f"carrier adapter {name!r} ({ep.value}) failed to import: "
            f"{type(exc).__name__}: {exc}; fix or reinstall the plug-in package",
            code="plugin_import_failed",
        ) from exc
    if not callable(factory):
        raise UnknownCarrierError(
            f"carrier adapter {name!r} ({ep.value}) is not callable: the entry point must name "
            f"a class or function that builds the adapter",
            code="invalid_plugin",
        )
    try:
        carrier = factory(**config)
    except GovpostError:
        raise  # the adapter refused the config in govpost's terms (ValidationError, ...)
    except Exception as exc:
        raise UnknownCarrierError(
            f"carrier adapter {name!r} ({ep.value}) failed to start with the config given "
            f"({', '.join(sorted(config)) or 'none'}): {type(exc).__name__}: {exc}; check the "
            f"adapter's documented keyword arguments, or fix the plug-in",
            code="plugin_failed",
        ) from exc
    check_declared(carrier, f"carrier adapter {name!r} ({ep.value})")
    result: Carrier = carrier
    return result
