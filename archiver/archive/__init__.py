"""Web archives: finding, requesting and verifying archived copies of the watched URLs.

- `selection`  which capture to offer, which version was in force at a date (pure)
"""
