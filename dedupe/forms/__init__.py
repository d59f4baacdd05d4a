"""The duplicate finder's forms: they parse the merge screen's choices; the rules live in
``dedupe.services``."""
