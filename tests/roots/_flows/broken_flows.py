"""A flows module that fails while it is imported."""

msg = "the database URL is not configured"
raise RuntimeError(msg)
