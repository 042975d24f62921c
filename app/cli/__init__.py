"""`flask` command groups of this app."""
