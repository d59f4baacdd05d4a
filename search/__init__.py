"""Global search: the box in every page's top bar (``/`` focuses it), its dropdown of hits as
you type and the full results page ``/search/?q=``. It reads leads, contacts, accounts,
opportunities and contracts through each app's own visibility rules (``search.access``) and
finds them by name, email, company, domain or phone (``search.query``), typo-tolerant on
PostgreSQL with pg_trgm's GIN indexes (``search.documents`` and this app's migrations), by
substring on SQLite."""
