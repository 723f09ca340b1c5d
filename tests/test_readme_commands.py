"""The README's commands, run as a user pastes them from a fresh clone after `make build`.

A ```sh block of README.md with `<!-- test: run -->` on the line before it is run by `sh -e` in a fresh copy of
the checkout (the files git tracks, as they are in the working tree, and the pyz built from them at
dist/sm-train.pyz, with its .sha256 from `make`), with a HOME and a TMPDIR of its own. It must exit 0, leave
the copy clean as git sees it (what it creates there is ignored), and leave nothing in TMPDIR but what a
`--keep DIR` in it asked for. Marked today: `make build`; the sha256 check of a copy; the example job run with
`--root examples/job`, by `make demo` and by `local`; `local --keep` and a run of the tree it kept.

Not run: the Dockerfiles and the SageMaker SDK snippets (Docker; the image tests build and run them), the
two-node torchrun lines (PyTorch), and the blocks that show output. A ```sh block that cannot run here must
say why, with `<!-- test: skip REASON -->` on the line before it.
"""

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

import build_pyz

README = os.path.join(build_pyz.ROOT, "README.md")
RUN = "<!-- test: run -->"
SKIP = "<!-- test: skip "
TIMEOUT = 120  # each block; `make demo`, the slowest, takes a few seconds


def fenced_blocks():
    """[(line number of the fence, the line before it, language, text)] of README.md's ``` blocks."""
    with open(README, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```"):
            end = lines.index("```", i + 1)
            blocks.append((i + 1, lines[i - 1] if i else "", lines[i][3:].strip(), "\n".join(lines[i + 1:end])))
            i = end
        i += 1
    return blocks


def marked():
    return [(number, text) for number, before, lang, text in fenced_blocks() if before == RUN]


BLOCKS = marked()


def test_each_sh_block_is_run_or_says_why_not():
    for number, before, lang, _ in fenced_blocks():
        if before == RUN or before.startswith(SKIP):
            assert lang == "sh", "README.md line %d: %s marks a ```%s block, not a ```sh one" % (number, before, lang)
        elif lang == "sh":
            pytest.fail("README.md line %d: a ```sh block without %r (or %r REASON -->) before it"
                        % (number, RUN, SKIP))


def test_the_quick_start_is_marked():
    """The three ways the first screen runs the example job are among the blocks run here."""
    runs = [" ".join(text.split()) for _, text in BLOCKS]
    for command in ("python3 dist/sm-train.pyz --root examples/job", "make demo",
                    "python3 dist/sm-train.pyz local --code examples/job/code --program train.py"):
        assert any(command in text for text in runs), "no marked block runs %r" % command


def checkout_copy(pyz, where):
    """A fresh clone after `make build`: the tracked files, older than the pyz, which is copied in, so that make
    builds only its .sha256. A git repository of its own, to tell what the commands leave in it."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=build_pyz.ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    if listed.returncode != 0:
        pytest.skip("%s is not a git checkout, so there is no clone to copy" % build_pyz.ROOT)
    past = time.time() - 3600
    for name in listed.stdout.decode().split("\0"):
        source = os.path.join(build_pyz.ROOT, name)
        if not name or not os.path.lexists(source):  # deleted in the working tree, not yet in git
            continue
        target = os.path.join(str(where), name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(source, target, follow_symlinks=False)
        os.utime(target, (past, past), follow_symlinks=False)
    os.makedirs(os.path.join(str(where), "dist"))
    shutil.copy(pyz, os.path.join(str(where), "dist", "sm-train.pyz"))
    for command in (["make", "-s", "dist/sm-train.pyz.sha256"], ["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(command, cwd=str(where), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True)
    return str(where)


def user_env(home, tmp):
    """This machine's environment as a user's shell has it, without SageMaker's, AWS's or an outer make's
    variables, and with a HOME and a TMPDIR of its own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SM_", "SAGEMAKER_", "AWS_", "MAKE")) and k not in ("MFLAGS", "TEMP", "TMP")}
    os.makedirs(home)
    os.makedirs(tmp)
    env.update(HOME=home, TMPDIR=tmp)
    return env


def kept(text, env, cwd):
    """The real paths of the --keep DIRs of a block."""
    paths = []
    for arg in re.findall(r"--keep[ =](\S+)", text):
        if arg.startswith("~/"):
            arg = os.path.join(env["HOME"], arg[2:])
        arg = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), arg)
        paths.append(os.path.realpath(os.path.join(cwd, arg)))
    return paths


@pytest.mark.parametrize("number, text", BLOCKS, ids=["line %d" % n for n, _ in BLOCKS])
def test_a_marked_readme_block_runs_in_a_fresh_clone(pyz, tmp_path, number, text):
    for tool in ("make", "git") + (("sha256sum",) if "sha256sum" in text else ()):
        if shutil.which(tool) is None:
            pytest.skip("%s is not on PATH" % tool)
    clone = checkout_copy(pyz, tmp_path / "clone")
    env = user_env(str(tmp_path / "home"), str(tmp_path / "tmp"))
    result = subprocess.run(["sh", "-e", "-c", text], cwd=clone, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=TIMEOUT)
    output = result.stdout.decode(errors="replace")
    assert result.returncode == 0, "README.md line %d exits %d:\n%s\n---\n%s" % (number, result.returncode, text,
                                                                                  output[-4000:])
    changed = [subprocess.run(["git"] + args, cwd=clone, stdout=subprocess.PIPE, check=True).stdout.decode()
               for args in (["diff", "--name-only"], ["ls-files", "--others", "--exclude-standard"])]
    assert changed == ["", ""], "README.md line %d changes the clone in ways git sees:\n%s" % (number, changed)
    keeps = kept(text, env, clone)
    left = [name for name in sorted(os.listdir(env["TMPDIR"]))
            if not any(k == os.path.join(env["TMPDIR"], name) or k.startswith(os.path.join(env["TMPDIR"], name, ""))
                       for k in keeps)]
    assert left == [], "README.md line %d leaves in TMPDIR: %s" % (number, left)


def test_build_help_shows_its_whole_description():
    """`python3 build_pyz.py --help`, which the README names, shows the first paragraph of its docstring whole."""
    out = subprocess.run([sys.executable, os.path.join(build_pyz.ROOT, "build_pyz.py"), "--help"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    summary = build_pyz.__doc__.split("\n\n")[0]
    assert "".join(summary.split()) in "".join(out.split()), out


def as_pattern(line):
    """A line of output the README shows, as a regular expression: any sha256 for its placeholder, any size."""
    parts = re.split(r"(<the sha256 of the file, 64 hex digits>|\d+(?= bytes))", line)
    return "".join("[0-9a-f]{64}" if part.startswith("<the sha256") else r"\d+" if part.isdigit() else re.escape(part)
                   for part in parts)


def test_the_output_shown_for_a_build_with_nothing_to_do(pyz, tmp_path):
    """The README shows what `make build` prints; with nothing to build, it prints the last two of those lines."""
    if shutil.which("make") is None or shutil.which("git") is None:
        pytest.skip("make or git is not on PATH")
    shown = [text for _, _, lang, text in fenced_blocks() if lang == "" and "wrote dist/sm-train.pyz" in text]
    assert len(shown) == 1, "README.md should show the output of `make build` once"
    clone = checkout_copy(pyz, tmp_path / "clone")
    env = user_env(str(tmp_path / "home"), str(tmp_path / "tmp"))
    out = subprocess.run(["make", "build"], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=TIMEOUT).stdout.decode().splitlines()
    assert len(out) == 2, out
    for line, example in zip(out, shown[0].splitlines()[-2:]):
        assert re.fullmatch(as_pattern(example), line), (line, example)
