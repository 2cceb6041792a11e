"""The systemd unit and the Containerfile in the repository run what the docs say they run."""

from __future__ import annotations

import re
import tomllib

from tests.paths import REPO


def test_the_systemd_unit_restarts_csp_bot_start_with_the_settings_file() -> None:
    unit = (REPO / "deploy" / "csp-bot.service").read_text()
    assert re.search(r"^ExecStart=\S+/\.venv/bin/csp-bot start$", unit, re.M)
    assert re.search(r"^EnvironmentFile=\S+csp-bot\.env$", unit, re.M)
    assert re.search(r"^Restart=on-failure$", unit, re.M)
    assert re.search(r"^WantedBy=multi-user\.target$", unit, re.M)


def test_the_containerfile_copies_every_package_and_runs_start() -> None:
    recipe = (REPO / "Containerfile").read_text()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = project["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in packages:
        name = package.rstrip("*")
        assert re.search(rf"^COPY {name} \./{name}$", recipe, re.M), name
    assert "COPY pyproject.toml README.md ./" in recipe
    assert re.search(r'^CMD \["csp-bot", "start"\]$', recipe, re.M)
    assert "VOLUME /var/lib/csp-bot" in recipe


def test_the_setup_guide_names_the_partnership_and_how_to_keep_it_running() -> None:
    guide = (REPO / "docs" / "slack-setup.md").read_text()
    env = guide.split("cat > csp-bot.env <<'ENV'")[1].split("ENV\n")[0]
    assert "CSP_PARTNERSHIP_NAME=" in env
    assert "deploy/csp-bot.service" in guide and "Containerfile" in guide
