"""API shapes of the catalogue and accounts, one module per concept."""
