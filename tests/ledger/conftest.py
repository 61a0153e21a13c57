"""The API's fixtures, for the tests that compare an edge with HTTP (an imported visit)."""

from tests.api.conftest import app, city, client, clock, key_for

__all__ = ["app", "city", "client", "clock", "key_for"]
