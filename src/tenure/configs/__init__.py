"""Versions of tenure.toml edited through the app: who changed what, and when."""
