"""Subscriptions (contracts) and orders: the transaction side of an account."""
