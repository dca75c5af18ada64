"""Business rules of the catalogue and accounts, one module per concept; no HTTP here."""
