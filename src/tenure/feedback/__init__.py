"""What customers tell us: support tickets, NPS responses, and every interaction."""
