"""Builds a sales report."""


def total_sales(orders: list[dict[str, float]]) -> float:
    total = sum(order["amount"] for order in orders)
    return total * tax_rate  # DEFECT: undefined name tax_rate
