"""A tiny shop: prices and a checkout."""
