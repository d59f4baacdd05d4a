"""renewals: nothing yet (see DESIGN.md)."""
