"""The composition root: the app factory, CLI, worker settings, embedded servers, demo and seed.

The only place that imports every domain (see the layer contracts in pyproject.toml)."""
