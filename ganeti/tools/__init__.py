"""The logic of the administrator tools in tools/ (kept here so it is tested)."""
