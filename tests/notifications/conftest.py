"""The API's fixtures, for tests that set the scene through the API."""

from tests.api.conftest import app, city, client, clock, key_for

__all__ = ["app", "city", "client", "clock", "key_for"]
