"""The accounts app's pages, a module per page or feature (``accounts/urls.py`` maps them):

- ``inbox``: the AE's inbox, accept and reject;
- ``pipeline``: the pipeline board and list (and the cards the other pages re-render);
- ``exports``: the pipeline's opportunities as a CSV file;
- ``opportunity``: one opportunity's page, move and details;
- ``early_losses``: the manager's early losses and rejections;
- ``handoff``: the SDR's qualify & hand-off form;
- ``targets``: the outbound SDR's target accounts and their prospects;
- ``common``: what several of them share.

Each is thin: authorize through ``accounts.access``, call one service, render; what a read
page shows beside the models comes from ``accounts.presenters``.
"""
