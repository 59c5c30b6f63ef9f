"""Product-usage events: a Delta Lake table read with DuckDB."""
