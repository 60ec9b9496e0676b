"""``okenv roles PROFILE``: the roles the login grants, grouped by account."""

from __future__ import annotations

import json
import os
import sys
from typing import NamedTuple

from okenv.commands import common
from okenv.commands.common import LoginOptions
from okenv.text import printable


class RolesInput(NamedTuple):
    profile: str
    as_json: bool = False
    login: LoginOptions = LoginOptions()


def run(given: RolesInput) -> int:
    from okenv.aliases import account_aliases
    from okenv.assume import menu
    from okenv.login import Secrets, fetch_assertion
    from okenv.rolepage import account_label

    resolved = common.profile(given.profile, given.login)
    prompter = common.prompter(given.login.no_input)
    assertion = fetch_assertion(resolved, Secrets.from_environment(), prompter)
    aliases = account_aliases(
        assertion,
        environ=os.environ,
        memory=common.memory(),
        timeout=resolved.timeout,
    )
    ordered, _ = menu(assertion.roles, aliases)
    if given.as_json:
        rows = [
            {
                "account_id": r.account_id,
                "alias": aliases.get(r.account_id),
                "role": r.name,
                "arn": r.arn,
            }
            for r in ordered
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    current = None
    for r in ordered:
        if r.account_id != current:
            current = r.account_id
            label = account_label(r.account_id, aliases.get(r.account_id))
            sys.stdout.write(printable(label) + "\n")  # an alias is AWS's text
        sys.stdout.write(printable(f"  {r.path:<24}  {r.arn}") + "\n")
    return 0
