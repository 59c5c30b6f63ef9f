"""The Segment-compatible tracking API and its durable inbox."""
