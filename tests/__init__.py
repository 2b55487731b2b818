"""The pdmc test suite; a package so tests can import shared helpers as `tests.<name>`."""
