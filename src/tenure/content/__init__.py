"""Message templates (sandboxed Jinja2, per locale and format) and the talk-track library."""
