"""Accounts, contacts and the users who work them."""
