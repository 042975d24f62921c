"""Domain services: they take plain arguments and settings, return domain objects and know nothing of Flask."""
