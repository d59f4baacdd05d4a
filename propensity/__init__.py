"""Learned propensity: models of the team's own wins, renewals and losses, trained on its
closed history, proven on held-out data against the hand-written fit score, explained per
lead, and used in the queue only when they win (docs/ARCHITECTURE.md, "Learned propensity")."""
