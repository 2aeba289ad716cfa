"""A toy vendor, made by the recipe of CONTRIBUTING.md ("Adding a vendor") for tests/integration/test_toy_vendor.py:
one operation (Greet) over HTTP and JSON, a user of its own (HTTP Basic), no tables. Nothing outside this package
names it; the test registers it (vendors.PACKAGES plus this package)."""
