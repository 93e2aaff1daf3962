"""What every app shares, below users and flocks: errors, page guards, form and paging helpers.

Nothing here imports ``users`` or ``flocks`` (tests/test_layers.py checks it).
"""
