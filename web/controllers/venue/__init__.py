"""The venue console: workspaces and rates, opening hours and closures, door devices, statements."""
