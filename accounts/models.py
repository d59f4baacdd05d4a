"""accounts: nothing yet (see DESIGN.md)."""
