"""The account manager's pages, one module per page: ``due`` (the renewals coming due),
``account`` (a customer account), ``contract`` (one contract term and its renewal work),
``expansion`` (the expansion-lead actions on the renewals page), ``imports`` (the contract
import), ``exports`` (the accounts, their contacts and the renewals as CSV files). Thin: authorize through ``renewals.access``, call one service, render.

Who sees what (``renewals.access``): AMs their own accounts, a manager those of the AM teams
they run, superusers everything; marketing reads accounts and contracts (imports are theirs)
but works none. AEs and SDRs see no renewals (403). An account or contract that is not the
user's is a 404, so ids do not leak who the customers are.
"""
