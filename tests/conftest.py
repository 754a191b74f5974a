"""Test-session set-up shared by every test folder."""

# Import the repository's integration first so it wins over the HA test plugin's own
# `custom_components` testing package.
import custom_components  # noqa: F401
