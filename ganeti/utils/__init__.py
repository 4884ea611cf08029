"""Small helpers that belong nowhere else, one module per kind."""
