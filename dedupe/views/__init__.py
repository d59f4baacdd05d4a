"""The duplicate finder's pages, a module per kind of record: ``people`` (leads) and
``companies`` (accounts)."""
