"""Okta: the HTTP plumbing, the Classic authn API, IDX and the pages the app link returns."""

import sys
import warnings

# BeautifulSoup imports soupsieve (CSS selectors) eagerly: ~35 ms of regex compiling on every
# login. okenv reads Okta's pages with find_all() only, so bs4 is told it is not installed
# (and its warning about that, which would reach stderr, is silenced).
sys.modules.setdefault("soupsieve", None)  # type: ignore[arg-type]
warnings.filterwarnings("ignore", message="The soupsieve package is not installed")
