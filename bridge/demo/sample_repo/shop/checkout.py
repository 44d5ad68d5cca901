from shop.pricing import price_with_tax


def total(items: list[float]) -> float:
    return sum(price_with_tax(i) for i in items)
