"""okenv: Okta sign-in to short-lived AWS credentials in your shell."""

__version__ = "0.1.0"
