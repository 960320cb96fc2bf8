"""Discovery of carrier adapters through entry points, and loud failures of broken plug-ins."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from govpost import carriers
from govpost.carriers import (
    Capability,
    QuotingCarrier,
    available,
    load,
    require,
    supports,
)
from govpost.carriers.ems import EmsCarrier
from govpost.carriers.sandbox import SandboxCarrier
from govpost.errors import CarrierError, UnknownCarrierError, ValidationError


def install_plugin(root: Path, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A distribution on ``root`` (a real dist-info directory) registering ``entry_points``."""
    dist = root / "govpost_test_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: govpost-test-plugins\nVersion: 1.0\n", encoding="utf-8"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (dist / "entry_points.txt").write_text(f"[govpost.carriers]\n{lines}", encoding="utf-8")
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    install_plugin(
        tmp_path,
        {
            "missing": "govpost_no_such_module:Carrier",
            "explodes": "govpost_test_explodes:Carrier",
            "notcarrier": "builtins:object",
            "liar": "govpost_test_liar:Liar",
            "ems": "govpost_test_liar:Liar",
            "working": "govpost_test_liar:Working",
        },
        {
            "govpost_test_explodes": "raise RuntimeError('database password missing')\n",
            "govpost_test_liar": """
                from govpost.carriers import Capability

                class Liar:
                    name = "liar"
                    capabilities = frozenset({Capability.BOOK, Capability.TRACK})

                    def track(self, tracking_number):
                        return ()

                class Working:
                    name = "working"
                    capabilities = frozenset({Capability.TRACK})

                    def __init__(self, greeting="hi"):
                        self.greeting = greeting

                    def track(self, tracking_number):
                        return ()
            """,
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_builtins_are_registered() -> None:
    assert {"ems", "sandbox"} <= set(available())
    assert isinstance(load("sandbox"), SandboxCarrier)
    ems = load("ems", sender_no="1", authorization="a", sign_key="TvaBgrhE46sft3nZlfe7xw==")
    assert isinstance(ems, EmsCarrier)
    ems.close()


def test_config_reaches_the_factory() -> None:
    sandbox = load("sandbox", seed=42, failure_rate=0.5)
    assert isinstance(sandbox, SandboxCarrier)
    assert (sandbox.seed, sandbox.failure_rate) == (42, 0.5)


def test_adapter_refusing_config_raises_validation_error() -> None:
    with pytest.raises(ValidationError, match="failure_rate"):
        load("sandbox", failure_rate=2)


def test_unknown_name_lists_the_installed_ones() -> None:
    with pytest.raises(UnknownCarrierError, match="no carrier adapter named 'pigeon'") as info:
        load("pigeon")
    assert "sandbox" in str(info.value)
    assert info.value.code == "unknown_carrier"
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, CarrierError)


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_name(name: object) -> None:
    with pytest.raises(ValidationError):
        load(name)  # type: ignore[arg-type]


def test_plugin_missing_its_module_is_loud(plugins: Path) -> None:
    with pytest.raises(UnknownCarrierError, match="ModuleNotFoundError") as info:
        load("missing")
    assert info.value.code == "plugin_import_failed"
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_plugin_failing_at_import_names_the_cause(plugins: Path) -> None:
    with pytest.raises(
        UnknownCarrierError, match="RuntimeError: database password missing"
    ) as info:
        load("explodes")
    assert isinstance(info.value.__cause__, RuntimeError)


def test_plugin_failing_to_start_names_the_cause_not_the_values(plugins: Path) -> None:
    with pytest.raises(UnknownCarrierError, match=r"TypeError: .*'colour'") as info:
        load("working", colour="13800138000")
    assert info.value.code == "plugin_failed"
    assert "(colour)" in str(info.value)
    assert "13800138000" not in str(info.value)
    assert isinstance(info.value.__cause__, TypeError)


def test_plugin_that_is_not_a_carrier(plugins: Path) -> None:
    with pytest.raises(UnknownCarrierError, match="no 'name' string"):
        load("notcarrier")


def test_declared_but_missing_capability(plugins: Path) -> None:
    with pytest.raises(UnknownCarrierError, match="methods are missing: book"):
        load("liar")


def test_two_packages_claiming_one_name(plugins: Path) -> None:
    with pytest.raises(UnknownCarrierError, match="claimed by several") as info:
        load("ems")
    assert info.value.code == "ambiguous_carrier"


def test_a_plugin_from_outside_govpost(plugins: Path) -> None:
    carrier = load("working", greeting="你好")
    assert carrier.name == "working"
    assert "working" in available()
    assert not supports(carrier, Capability.BOOK)


def test_require_types_and_refuses() -> None:
    sandbox = load("sandbox")
    quoting: QuotingCarrier = require(sandbox, Capability.QUOTE)
    assert quoting is sandbox

    class TrackOnly:
        name = "track-only"
        capabilities = frozenset({Capability.TRACK})

    with pytest.raises(CarrierError, match="does not support 'book'") as info:
        require(TrackOnly(), Capability.BOOK)  # type: ignore[call-overload]
    assert info.value.code == "unsupported"


def test_importing_carriers_stays_light() -> None:
    code = (
        "import sys, govpost.carriers, govpost.carriers.webhooks, govpost.carriers.sandbox; "
        "print(sorted(m for m in ('requests', 'cryptography') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names() -> None:
    assert carriers.__all__ == sorted(carriers.__all__, key=lambda n: (not n.isupper(), n))
    for name in carriers.__all__:
        assert getattr(carriers, name) is not None
