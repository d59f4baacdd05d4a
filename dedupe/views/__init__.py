"""The duplicate finder's pages, a module per kind: ``people`` (leads); the companies' screens
sit beside it."""
