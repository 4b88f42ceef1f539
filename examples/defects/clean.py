"""A clean control file: idiomatic code the default tools must not report."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Order:
    """One order line of a shop."""

    sku: str
    quantity: int
    unit_price: float

    @property
    def total(self) -> float:
        return self.quantity * self.unit_price


@dataclass
class Ledger:
    """Orders kept in memory, saved as JSON."""

    orders: list[Order] = field(default_factory=list)

    def add(self, order: Order) -> None:
        if order.quantity <= 0:
            raise ValueError(f"quantity must be positive, got {order.quantity}")
        self.orders.append(order)

    def revenue(self) -> float:
        return sum(order.total for order in self.orders)

    def best_sellers(self, top: int = 3) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for order in self.orders:
            counts[order.sku] += order.quantity
        return counts.most_common(top)

    def save(self, path: Path) -> None:
        rows = [order.__dict__ for order in self.orders]
        path.write_text(json.dumps(rows, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Ledger:
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        return cls([Order(**row) for row in rows])
