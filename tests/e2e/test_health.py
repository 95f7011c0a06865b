"""Hosting: the server answers its health check, and the Dockerfile, .dockerignore and config.toml hold together."""

from __future__ import annotations

import ast
import fnmatch
import json
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import tomllib

from .harness import ROOT, healthy


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except OSError:
        return 0, b""


@pytest.mark.slow  # starts a server: seconds
def test_streamlit_run_app_answers_its_health_check(fresh_server):
    # The fixture waits for the health check's "ok"; here the status code and the page shell too.
    assert get(f"{fresh_server.url}/_stcore/health") == (200, b"ok")
    status, page = get(fresh_server.url + "/")
    assert status == 200 and b'<div id="root">' in page
    fresh_server.stop()
    assert not healthy(fresh_server.url), "the server still answers after being stopped"


# --------------------------------------------------------------------------- Dockerfile


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    lines, current = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.partition(" ")
        lines.append((word.upper(), rest.strip()))
        current = ""
    return lines


def exec_form(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def test_dockerfile_builds_from_python_312_slim_and_installs_the_requirements():
    ins = dockerfile()
    assert (
        ins[0][0] == "FROM" and ins[0][1].startswith("python:3.12.") and "-slim" in ins[0][1]
    )  # an exact 3.12 release
    runs = [a for i, a in ins if i == "RUN"]
    assert any("pip install" in a and "-r requirements.txt" in a for a in runs)


def test_dockerfile_exposes_8501_and_checks_health():
    ins = dockerfile()
    assert ("EXPOSE", "8501") in ins
    checks = [a for i, a in ins if i == "HEALTHCHECK"]
    assert len(checks) == 1
    opts, _, cmd = checks[0].partition("CMD")
    assert "http://localhost:8501/_stcore/health" in cmd
    assert "--start-period" in opts  # TensorFlow takes a while to import


def test_dockerfile_starts_streamlit_run_serve_on_8501():
    cmds = [exec_form(a) for i, a in dockerfile() if i == "CMD"]
    assert len(cmds) == 1
    cmd = cmds[0]
    assert cmd[:3] == ["streamlit", "run", "serve.py"]  # app.py behind the edge that hides the metrics (test_edge.py)
    assert {"--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"} <= set(cmd[3:])


def copied_sources() -> list[str]:
    sources = []
    for i, a in dockerfile():
        if i == "COPY":
            parts = [p for p in exec_form(a) if not p.startswith("--")]
            sources += parts[:-1]
    return sources


def test_every_file_the_dockerfile_copies_exists():
    sources = copied_sources()
    assert sources
    for src in sources:
        assert (ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"


def local_imports() -> set[str]:
    """Top-level names of this repository's modules that the app's code imports."""
    files = [
        ROOT / "app.py",
        ROOT / "serve.py",
        *ROOT.glob("views/*.py"),
        *ROOT.glob("ui/*.py"),
        *ROOT.glob("cnn_core/*.py"),
    ]
    names = set()
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if (ROOT / n).is_dir() or (ROOT / f"{n}.py").exists()}


def test_the_image_gets_everything_the_app_needs():
    copied = {Path(s).parts[0] for s in copied_sources()}
    needed = local_imports() | {"app.py", "serve.py", "views", "assets", ".streamlit", "requirements.txt"}
    assert {"cnn_core", "ui"} <= needed
    assert needed <= copied, f"Dockerfile does not copy {sorted(needed - copied)}"


def test_dockerignore_keeps_out_tests_and_git_but_not_the_app():
    patterns = [
        p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip() and not p.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns)

    for src in copied_sources():
        files = (
            [src]
            if (ROOT / src).is_file()
            else [str(p.relative_to(ROOT)) for p in (ROOT / src).rglob("*") if p.is_file()]
        )
        kept = [f for f in files if not ignored(f) and "__pycache__" not in f]
        assert kept, f".dockerignore leaves nothing of {src}"
    assert ignored("app.py") is False and ignored("cnn_core/spec.py") is False
    assert ignored(".git") and ignored("tests/core/test_share.py") and ignored(".streamlit/secrets.toml")


# --------------------------------------------------------------------------- .streamlit/config.toml


def test_config_toml_uses_only_real_options_and_streamlit_reads_them():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    ours = {f"{section}.{key}": value for section, opts in config.items() for key, value in opts.items()}
    code = (
        "import json; from streamlit import config\n"
        "opts = config.get_config_options(force_reparse=True)\n"
        "print(json.dumps({k: config.get_option(k) for k in opts}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    effective = json.loads(out.stdout.strip().splitlines()[-1])
    unknown = sorted(set(ours) - set(effective))
    assert not unknown, f"not Streamlit options: {unknown}"
    for key, value in ours.items():
        assert effective[key] == value, key


def test_config_toml_fits_the_upload_cap_and_keeps_protections_on():
    from cnn_core.images import MAX_FILE_BYTES, MAX_UPLOAD_MB

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    # Streamlit's uploader counts MB as 10**6 bytes ("File must be 50.0MB or smaller" for 50,353,427 bytes)
    assert server["maxUploadSize"] == MAX_UPLOAD_MB and MAX_UPLOAD_MB * 10**6 == MAX_FILE_BYTES
    assert server["enableXsrfProtection"] is True and server["headless"] is True
    assert server.get("runOnSave") is False
    assert "cookieSecret" not in server  # a secret does not belong in git; see docs/DEPLOY.md
    assert config["browser"]["gatherUsageStats"] is False
    assert config["theme"]["base"] == "light" and config["theme"]["primaryColor"].startswith("#")
