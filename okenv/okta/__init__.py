"""Okta: the HTTP plumbing, the Classic authn API and the pages the app link returns."""
