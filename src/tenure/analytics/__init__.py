"""Per-account features, computed set-based for every account at once."""
