from tests.e2e.conftest import Sandbox


def test_count(sandbox: Sandbox) -> None:
    assert sandbox.run("login", "admin").returncode == 0
    names = sandbox.imports("env", "admin", "--shell", "bash")
    ok = sorted(n for n in names if n.startswith("okenv"))
    print("\nCOUNT", len(names), "okenv", len(ok), ok)
