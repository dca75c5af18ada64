"""The kernel every domain may use: settings, database, identity and auth, problems, idempotency,
throttles, observability, pagination. It imports no domain; import-linter holds it to that."""
