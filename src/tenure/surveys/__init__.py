"""NPS surveys: signed, expiring links, the hosted survey page, reminders."""
