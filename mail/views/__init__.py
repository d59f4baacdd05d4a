"""The mail app's pages: tracking and unsubscribe (``tracking``: public, signed links)."""
