"""The accounts API: login, logout, the current user, and the user's API tokens."""
