"""Builds are reproducible: an exact base image, and every package pinned by a generated constraints file."""

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version and re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), line
            pins[canonicalize_name(name)] = version
    return pins


def test_the_base_image_is_an_exact_release_or_digest():
    froms = [line.split()[1] for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("FROM ")]
    assert froms
    for image in froms:
        assert "@sha256:" in image or re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+", image), image


def test_docker_and_ci_install_from_the_constraints():
    assert re.search(r"pip install -r requirements\.txt -c constraints\.txt", (ROOT / "Dockerfile").read_text())
    assert re.search(r"pip install .*-r requirements-dev\.txt -c constraints\.txt", (ROOT / ".ci" / "run").read_text())
    assert "constraints.txt" not in (ROOT / ".dockerignore").read_text()


def test_constraints_pin_every_requirement_within_its_range():
    pins = _pins()
    for file in ("requirements.txt", "requirements-dev.txt", "requirements-bench.txt"):
        for line in (ROOT / file).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-r"):
                continue
            req = Requirement(line)
            name = canonicalize_name(req.name)
            assert name in pins, f"{req.name} ({file}) is not in constraints.txt; run scripts/lock.py"
            assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} is outside {req}"
    # requirements.txt itself keeps ranges (Streamlit Community Cloud installs from it).
    assert "==" not in (ROOT / "requirements.txt").read_text()
