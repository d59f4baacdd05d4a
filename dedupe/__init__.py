"""Duplicates the email key misses: the same person under two emails, the same company under two
accounts. The finder (``dedupe.people``, ``dedupe.companies``) lists pairs with their evidence;
the merge services move everything to the survivor in one transaction, and the merged record's
old id redirects (``leads.LeadRedirect``, ``accounts.AccountRedirect``)."""
