"""The accounts app's pages."""
