"""Bulk import of users, accounts, contacts, commerce, feedback and events from files."""
