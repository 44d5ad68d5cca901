"""The nginx config shipped in docs/hosted.md is valid nginx and routes like the one the fleet tests
run against (bridge/bench/nginxproc.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bridge.bench.nginxproc import find_nginx, fleet_config
from tests.support.tls import tls_files

DOC = Path(__file__).resolve().parents[2] / "docs" / "hosted.md"


def shipped() -> str:
    text = DOC.read_text()
    section = text[text.index("## Running a fleet") :]
    return re.search(r"```nginx\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def locations(conf: str) -> list[str]:
    """The location blocks and server-level proxy directives, comments and spacing removed."""
    conf = re.sub(r"#[^\n]*", "", conf)
    blocks = re.findall(r"location [^{]+\{[^}]*\}", conf)
    directives = sorted(set(re.findall(r"^\s*(proxy_(?!temp_path)\w+ [^;]+;)", conf, re.M)))
    return [" ".join(b.split()) for b in blocks] + [" ".join(d.split()) for d in directives]


def test_the_shipped_config_routes_like_the_tested_one(tmp_path: Path) -> None:
    tested = fleet_config(tmp_path, 8000, {"n1": 8001, "n2": 8002, "n3": 8003})
    assert locations(shipped()) == locations(tested)
    assert "max_fails=0" in shipped() and "map $http_upgrade $connection_upgrade" in shipped()


def test_the_shipped_config_is_valid_nginx(tmp_path: Path, nginx_ok: None) -> None:
    tls = tls_files(tmp_path)
    body = shipped().replace("listen 443 ssl;", "listen 127.0.0.1:8443 ssl;")
    body = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {tls.cert};", body)
    body = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {tls.key};", body)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"error_log {tmp_path}/error.log; pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n"
        f"client_body_temp_path {tmp_path}/b; proxy_temp_path {tmp_path}/p; fastcgi_temp_path {tmp_path}/f;"
        f" uwsgi_temp_path {tmp_path}/u; scgi_temp_path {tmp_path}/s;\n{body}\n}}\n"
    )
    binary = find_nginx()
    assert binary is not None
    res = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert "syntax is ok" in res.stderr and "test is successful" in res.stderr
