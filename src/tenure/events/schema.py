"""The Arrow schema of the event table; every writer and reader agrees on it."""

from __future__ import annotations

import pyarrow as pa

EVENT_SCHEMA = pa.schema(
    [
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),  # account external id
        pa.field("contact_id", pa.string(), nullable=True),  # contact external id
        pa.field("event", pa.string(), nullable=False),
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("properties", pa.string(), nullable=True),  # JSON object text
    ]
)
