"""The plug-in path from outside govpost: the example ACME adapter, found by its entry point."""

from __future__ import annotations

import http.server
import json
import threading
import tomllib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from govpost.carriers import QuoteRequest, available, load
from govpost.carriers.webhooks import sign_request
from govpost.errors import CarrierError, WebhookVerificationError
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.shipments import ShipmentStatus
from govpost.testing import carrier_contract

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "acme_carrier"
WAYBILL = "EA520001879CN"
EVENTS = [
    {"id": "e1", "waybill": WAYBILL, "code": "PICKUP", "at": "2024-06-03T10:00:00+08:00"},
    {"id": "e2", "waybill": WAYBILL, "code": "TRANSIT", "at": "2024-06-03T18:00:00+08:00"},
    {"id": "e3", "waybill": WAYBILL, "code": "DELIVERED", "at": "2024-06-05T11:00:00+08:00",
     "place": "遵义"},
]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def acme_registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The example package as installed (``pip install -e examples/acme_carrier``), or, when it
    is not, the same entry point from its pyproject.toml in a dist-info on sys.path."""
    try:
        distribution("acme-carrier")
    except PackageNotFoundError:
        import importlib
        import sys

        root = tmp_path_factory.mktemp("site")
        project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
        target = project["project"]["entry-points"]["govpost.carriers"]["acme"]
        dist = root / "acme_carrier-0.1.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: acme-carrier\nVersion: 0.1.0\n"
        )
        (dist / "entry_points.txt").write_text(f"[govpost.carriers]\nacme = {target}\n")
        sys.path[:0] = [str(root), str(EXAMPLE / "src")]
        importlib.invalidate_caches()
        yield
        sys.path.remove(str(root))
        sys.path.remove(str(EXAMPLE / "src"))
    else:
        yield


class FakeAcme:
    def __init__(self) -> None:
        fake = self
        self.forms: list[dict[str, str]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = dict(parse_qsl(body.decode()))
                fake.forms.append(form)
                answer = fake.answer(self.path, form)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def answer(self, path: str, form: Mapping[str, str]) -> dict[str, Any]:
        if form.get("api_key") != "acme-key":
            return {"ok": False, "error": {"code": "auth", "message": "bad key"}}
        if path == "/v1/quote":
            return {"ok": True, "data": {"price": f"{8 + int(form['grams']) // 500 * 2}.00"}}
        if path == "/v1/track" and form.get("waybill") == WAYBILL:
            return {"ok": True, "data": EVENTS}
        return {"ok": False, "error": {"code": "not_found", "message": "no such waybill"}}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def acme() -> Iterator[Any]:
    fake = FakeAcme()
    carrier = load("acme", base_url=fake.url, api_key="acme-key", webhook_secret="acme-secret")
    yield carrier
    carrier.close()  # type: ignore[attr-defined]
    fake.close()


def signed_push(
    events: list[dict[str, str]], *, secret: str = "acme-secret"
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": "push-1", "events": events}).encode()
    return body, sign_request(secret, body, timestamp=int(datetime.now(UTC).timestamp()))


def test_found_by_its_entry_point(acme: Any) -> None:
    assert "acme" in available()
    assert type(acme).__module__ == "acme_carrier"
    assert "acme-key" not in repr(acme)


def test_quote_and_track_over_http(acme: Any) -> None:
    quote = acme.quote(QuoteRequest(origin="520102", destination="520302", weight_g=1200))
    assert quote.amount == Money("12.00")
    events = acme.track(TrackingNumber.parse(WAYBILL))
    assert [e.status for e in events] == [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.DELIVERED,
    ]
    with pytest.raises(CarrierError) as info:
        acme.track(TrackingNumber.parse("EA000000014CN"))
    assert info.value.code == "not_found"


def test_pushes_are_verified(acme: Any) -> None:
    message = acme.parse_push(*signed_push(EVENTS))
    assert [e.event_id for e in message.events] == ["acme:e1", "acme:e2", "acme:e3"]
    with pytest.raises(WebhookVerificationError):
        acme.parse_push(*signed_push(EVENTS, secret="guess"))


def test_the_example_adapter_passes_the_carrier_contract(acme: Any) -> None:
    checks = carrier_contract(
        acme,
        push_source=lambda number: signed_push(EVENTS),
        known_waybill=TrackingNumber.parse(WAYBILL),
    )
    assert checks == [
        "declares_capabilities",
        "quotes",
        "tracks",
        "refuses_unknown_waybill",
        "verifies_pushes",
        "masks_personal_data",
    ]
