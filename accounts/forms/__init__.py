"""The accounts app's forms."""

from .pipeline import add_refusal

__all__ = ["add_refusal"]
