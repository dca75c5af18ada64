"""What `deploy/` ships is valid for the tools that read it: nginx, systemd, Prometheus, and
the environment file names exactly the settings the service reads."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.app.embedded import free_port
from tests.deploy.machine import DEPLOY, ROOT, debian_tool, local_site

UNITS = DEPLOY / "systemd"


def test_nginx_accepts_the_shipped_site(tmp_path: Path) -> None:
    nginx = debian_tool("nginx", "nginx")
    main = local_site(tmp_path, https_port=free_port(), http_port=free_port(), upstreams=[8001])

    result = subprocess.run(
        [nginx, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    # What the site promises, read from it as shipped.
    site = (DEPLOY / "nginx" / "tierslieux.conf").read_text()
    assert re.search(r"listen 443 ssl http2;", site)
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert re.search(r"location = /metrics \{\s*deny all;\s*\}", site)
    assert re.search(r"client_max_body_size \d+m;", site)
    assert re.search(r"location /static/ \{[^}]*expires", site)


def test_nginx_refuses_a_broken_site(tmp_path: Path) -> None:
    """The check above can fail: a site with a typo is refused."""
    nginx = debian_tool("nginx", "nginx")
    main = local_site(tmp_path, https_port=free_port(), http_port=free_port(), upstreams=[8001])
    site = tmp_path / "site.conf"
    site.write_text(site.read_text().replace("proxy_pass", "proxy_passs", 1))

    result = subprocess.run(
        [nginx, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "proxy_passs" in result.stderr


def _units_for_this_machine(folder: Path) -> list[Path]:
    """The shipped units, with the installed command's path replaced by this checkout's, and
    an instance of each template (systemd verifies instances, not templates)."""
    command = Path(sys.executable).parent / "tierslieux"
    assert command.exists(), command
    units = []
    for unit in sorted(UNITS.iterdir()):
        text = unit.read_text()
        assert "/opt/tierslieux/.venv/bin/tierslieux" in text or unit.suffix in (
            ".timer",
            ".target",
        )
        text = text.replace("/opt/tierslieux/.venv/bin/tierslieux", str(command))
        name = unit.name.replace("@.", "@8001." if "api" in unit.name else "@1.")
        (folder / name).write_text(text)
        units.append(folder / name)
    return units


def test_systemd_verifies_every_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not on this machine (it is on any systemd Debian)")
    units = _units_for_this_machine(tmp_path)
    assert {u.name for u in units} == {
        "tierslieux-api@8001.service",
        "tierslieux-worker@1.service",
        "tierslieux-backup.service",
        "tierslieux-backup.timer",
        "tierslieux.target",
    }

    result = subprocess.run(
        [analyze, "verify", "--man=no", *map(str, units)], capture_output=True, text=True
    )

    # Unknown keys are only warned about: any line naming one of our units is a failure.
    ours = [line for line in result.stderr.splitlines() if "tierslieux" in line]
    assert result.returncode == 0, result.stderr
    assert not ours, result.stderr


def test_systemd_check_catches_a_mistake(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not on this machine")
    unit = next(u for u in _units_for_this_machine(tmp_path) if "worker" in u.name)
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"))

    result = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True
    )

    assert "sometimes" in result.stderr


def test_units_run_what_the_recipe_says() -> None:
    api = (UNITS / "tierslieux-api@.service").read_text()
    worker = (UNITS / "tierslieux-worker@.service").read_text()
    backup = (UNITS / "tierslieux-backup.service").read_text()
    timer = (UNITS / "tierslieux-backup.timer").read_text()
    assert "tierslieux serve --host 127.0.0.1 --port %i" in api
    assert "tierslieux worker" in worker
    for unit in (api, worker, backup):
        assert "EnvironmentFile=/etc/tierslieux/tierslieux.env" in unit
        assert "User=tierslieux" in unit
    for unit in (api, worker):
        assert "RestartPreventExitStatus=2" in unit  # a refused setting is not retried
    assert "tierslieux backup" in backup
    assert "OnCalendar=" in timer
    assert "Persistent=true" in timer


def test_promtool_accepts_the_alert_rules() -> None:
    promtool = debian_tool("promtool", "prometheus")
    rules = DEPLOY / "prometheus" / "tierslieux-alerts.yml"

    result = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    # Each metric the service itself exports that a rule watches exists in the code.
    text = rules.read_text()
    for metric in re.findall(r"\b(tierslieux_[a-z_]+)", text):
        if metric.startswith("tierslieux_backup_"):
            assert metric in (UNITS / "tierslieux-backup.service").read_text()
        elif metric.startswith(("tierslieux_requests", "tierslieux_request_")):
            assert 'prefix="tierslieux"' in (ROOT / "service/app/factory.py").read_text()
        else:
            assert metric in (ROOT / "service/kernel/outages.py").read_text(), metric


def _documented_settings() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    names: set[str] = set()
    for line in text.splitlines():
        cell = re.match(r"\| ((?:`[A-Z_]+`(?:, )?)+) \|", line)
        if cell:
            names |= set(re.findall(r"`([A-Z_]+)`", cell[1]))
    return names


def _read_settings() -> set[str]:
    source = (ROOT / "service" / "kernel" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.get\(|, )"([A-Z_]+)"', source)) | set(
        re.findall(r'"[a-z_]+": "([A-Z_]+)"', source)
    )


def _template_settings() -> set[str]:
    text = (DEPLOY / "tierslieux.env").read_text()
    return set(re.findall(r"^#?([A-Z][A-Z_]+)=", text, flags=re.MULTILINE))


def test_the_environment_template_names_exactly_the_settings() -> None:
    read = _read_settings()
    assert len(read) > 30  # the pattern still finds them

    assert _template_settings() == read
    assert _documented_settings() == read
