"""Scores: value scorecard, RFM, lifecycle stage and health, kept as daily snapshots."""
