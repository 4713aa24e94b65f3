"""The man page and the bash completion match the commands: every option a command's help names
is in vexctl.1 and is completed for that command, and completion answers as a user expects."""
import os
import re
import subprocess

import pytest

from conftest import BINARY, ROOT

MAN = ROOT / "tools" / "vexctl" / "vexctl.1.in"
COMPLETION = ROOT / "tools" / "vexctl" / "vexctl.bash-completion"
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
SUBCOMMANDS = {"performance": ["metrics", "monitor", "benchmark", "report", "simd", "memory-pools"],
               "bench": ["ann"]}
LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def commands(ok):
    listing = ok("help").out
    names = re.findall(r"^  ([a-z][a-z-]*) ", listing, re.M)
    return [n for n in names if n not in ("help", "version")]


def man_text():
    text = MAN.read_text()
    return re.sub(r"\\f[BIR]", "", text).replace("\\-", "-")


def completed_options(command, sub=""):
    script = f"source {COMPLETION}; _vexctl_options {command} {sub}"
    return set(subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                              check=True).stdout.split())


def test_every_command_has_help_and_a_man_entry(ok):
    names = commands(ok)
    assert {"create", "import", "export", "search", "check", "performance", "bench"} <= set(names)
    man = man_text()
    for name in names:
        r = ok("help", name)
        assert r.out.startswith("usage: vexctl " + name), r
        assert ok(name, "--help").out == r.out
        assert re.search(rf"^\.(B|BI|BR) \"?{name}\b", MAN.read_text(), re.M), name
    assert "EXIT STATUS" in man


def test_every_option_in_a_help_text_is_documented_and_completed(ok):
    man = set(LONG_OPTION.findall(man_text()))
    for name in commands(ok):
        in_help = set(LONG_OPTION.findall(ok("help", name).out)) - {"--help"}
        missing_from_man = in_help - man
        assert not missing_from_man, f"{name}: not in vexctl.1: {sorted(missing_from_man)}"
        completed = set()
        for sub in SUBCOMMANDS.get(name, [""]):
            completed |= completed_options(name, sub)
        missing = in_help - completed
        assert not missing, f"{name}: not completed: {sorted(missing)}"


@pytest.fixture
def complete(tmp_path):
    """complete(*words) -> the sorted completions of the last word, as bash would offer them
    (bash-completion's own functions loaded, and this vexctl first on PATH)."""
    script = tmp_path / "complete.sh"
    script.write_text(f"""
source {BASH_COMPLETION}
source {COMPLETION}
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}
_vexctl
printf '%s\\n' "${{COMPREPLY[@]}}"
""")
    env = dict(os.environ, PATH=os.path.dirname(BINARY) + os.pathsep + os.environ["PATH"])

    def run(*words):
        out = subprocess.run(["bash", str(script), "vexctl", *map(str, words)], capture_output=True,
                             text=True, env=env, check=True, cwd=tmp_path).stdout
        return sorted(w for w in out.split("\n") if w)
    return run


def test_completion_offers_commands_values_and_collections(complete, ok, db):
    assert "import" in complete("") and "performance" in complete("")
    assert complete("perf") == ["performance"]
    assert complete("performance", "m") == ["memory-pools", "metrics", "monitor"]
    assert complete("create", db, "x", "--metric", "") == ["cosine", "ip", "l2"]
    assert complete("search", db, "x", "--exa") == ["--exact"]
    ok("create", db, "alpha", "--dim", "3")
    ok("create", db, "beta", "--dim", "3")
    assert complete("search", db, "") == ["alpha", "beta"]
    assert complete("search", "-k", "3", db, "a") == ["alpha"]
    assert complete("index", db, "alpha", "key", "") == ["keyword", "numeric"]
