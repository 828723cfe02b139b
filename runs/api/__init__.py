"""The runs API: start runs (per workflow), list and read runs with their logs, cancel."""
