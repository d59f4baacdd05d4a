"""sdr: nothing yet (see DESIGN.md)."""
