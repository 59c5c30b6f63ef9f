"""Helpers that know no domain: CLI plumbing, JSON output, dates."""
