"""The duplicate finder's pages: a module per kind of record (``companies``: accounts)."""
