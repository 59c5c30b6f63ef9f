"""Who may do what: passwords, sessions, API tokens, roles, and the audit log."""
