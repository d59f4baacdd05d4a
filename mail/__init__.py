"""Email: reps' mailboxes, templates with merge fields, the one send service (claimed in the
database, exactly once), replies and bounces read back over IMAP, tracking and the
suppression list."""
