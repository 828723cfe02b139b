"""The workflows API: workflows (CRUD, versions, runs, webhook secret), credentials, node types."""
