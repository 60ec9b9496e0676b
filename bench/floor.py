"""The floor: what a cached call cannot beat. Standard library only: read the cached
credentials (a JSON file) and print the three export lines."""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    creds = json.load(f)
sys.stdout.write(
    f"export AWS_ACCESS_KEY_ID='{creds['AccessKeyId']}'\n"
    f"export AWS_SECRET_ACCESS_KEY='{creds['SecretAccessKey']}'\n"
    f"export AWS_SESSION_TOKEN='{creds['SessionToken']}'\n"
)
