"""Django's SQLite backend with a cheaper placeholder rewrite (base.py)."""
