"""Shipping prices, grown one special case at a time."""


def shipping_cost(country, weight, express, items, coupon):  # DEFECT: too complex
    cost = 0.0
    if country == "US":
        cost = 5.0
    elif country == "CA":
        cost = 7.5
    elif country == "MX":
        cost = 8.0
    elif country in ("DE", "FR", "IT"):
        cost = 12.0
    elif country == "UK":
        cost = 11.0
    elif country == "JP":
        cost = 15.0
    else:
        cost = 20.0
    for item in items:
        if item.get("fragile"):
            cost += 3.0
        elif item.get("oversize"):
            cost += 10.0
        if item.get("battery") and country != "US":
            cost += 4.0
    while weight > 10:
        cost += 2.5
        weight -= 10
    if express and country in ("US", "CA"):
        cost *= 1.5
    elif express:
        cost *= 2.0
    if coupon == "FREESHIP" and cost < 50:
        cost = 0.0
    return cost
