"""Settle a month of postage under a per-piece agreement and reconcile the carrier's bill.

The rate card is a TOML file (the agency keeps its tariffs as data, with the reference of each
rate), our shipments are a JSON file in govpost's wire format, and the carrier's bill is a CSV
exported from a Chinese spreadsheet, encoded in GBK. See docs/tutorial/settle-a-month.md.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from govpost import (
    Budget,
    CarrierBill,
    Coverage,
    FeeAgreement,
    Period,
    PerPiece,
    RateCard,
    Shipment,
    from_json,
    reconcile,
    settle,
)

DATA = Path(__file__).resolve().parent / "data"


def main() -> None:
    """Build the agreement from the rate-card file, settle June 2018, reconcile, print."""
    rates = RateCard.from_toml((DATA / "ems-rates-2018.toml").read_text(encoding="utf-8"))
    agreement = FeeAgreement(
        id="GZ-EMS-2018",
        carrier="ems",
        reference="黔政办〔2018〕1号",
        centers={"GZ-520100", "GZ-520200"},
        # The government pays for results sent to applicants; anything else is the applicant's.
        covers=[Coverage(business_line="licence_delivery", direction="outbound_result")],
        mode=PerPiece(tariff=rates, discount="0.15"),  # 八五折 on postage
        valid_from=date(2018, 1, 1),
        budget=Budget(annual="20000.00"),
    )
    shipments = from_json(
        (DATA / "shipments-2018-06.json").read_text(encoding="utf-8"), list[Shipment]
    )

    statement = settle(agreement, shipments, Period.month(2018, 6))
    print(statement.to_table())
    print()

    bill = CarrierBill.from_csv(DATA / "ems-bill-2018-06-gbk.csv")  # GBK, detected
    report = reconcile(statement, bill)
    print(report.to_table())


if __name__ == "__main__":
    main()
