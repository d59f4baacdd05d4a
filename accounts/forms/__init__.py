"""The accounts app's forms, a module per feature: ``pipeline`` (reject a handoff, move an
opportunity, its working details), ``handoff`` (the SDR's qualification), ``targets`` (target
accounts and prospects). A service's refusal goes on a form with ``kit.errors.add_refusal``."""
