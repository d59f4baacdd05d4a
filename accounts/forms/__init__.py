"""The accounts app's forms, a module per feature: ``pipeline`` (reject a handoff, move an
opportunity, its working details), ``handoff`` (the SDR's qualification), ``targets`` (target
accounts and prospects). ``add_refusal`` is public: the renewals pages put their refusals
beside a field with it too."""

from .pipeline import add_refusal

__all__ = ["add_refusal"]
