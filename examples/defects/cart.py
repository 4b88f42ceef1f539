"""A shopping cart helper."""


def add_item(item: str, items: list[str] = []) -> list[str]:  # DEFECT: mutable default argument
    items.append(item)
    return items
