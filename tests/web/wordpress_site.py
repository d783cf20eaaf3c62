"""A throwaway WordPress site on localhost: Debian's wordpress, a private MariaDB, ``php -S``.

Everything lives in a temporary directory and goes away with it, except the one file Debian's
``/usr/share/wordpress/wp-config.php`` insists on: ``/etc/wordpress/config-<name>.php`` (see
``/usr/share/doc/wordpress/README.Debian``), written with a name unique to this run and removed
afterwards. The PHP server is pointed at it through ``$_SERVER['WORDPRESS_CONFIG']``, which
Debian's wp-config.php reads, set by a router script.

The site is installed by WordPress's own ``wp_install()`` (what ``wp-admin/install.php`` calls)
and the posts are written by ``wp_insert_post()``, from a PHP script run with the ``php`` command.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tests.live_server import free_port
from tests.processes import stop

WORDPRESS_DIR = Path("/usr/share/wordpress")
THEME = WORDPRESS_DIR / "wp-content" / "themes" / "twentytwentythree"
CONFIG_DIR = Path("/etc/wordpress")
MARIADBD = "/usr/sbin/mariadbd"
PACKAGES = "apt-get install wordpress wordpress-theme-twentytwentythree mariadb-server php-cli php-mysql"


def missing() -> str | None:
    """Why a WordPress site cannot be made here, or None if it can."""
    needs = {
        "php": shutil.which("php"),
        "mariadbd": Path(MARIADBD).exists() or None,
        "mariadb-install-db": shutil.which("mariadb-install-db"),
        "mariadb": shutil.which("mariadb"),
        "wordpress": (WORDPRESS_DIR / "wp-load.php").exists() or None,
        "the twentytwentythree theme": THEME.exists() or None,
    }
    absent = [name for name, found in needs.items() if not found]
    if absent:
        return f"WordPress site needs {', '.join(absent)} ({PACKAGES})"
    modules = subprocess.run(["php", "-m"], capture_output=True, text=True, check=True).stdout.split()
    if "mysqli" not in modules:
        return f"PHP has no mysqli ({PACKAGES})"
    if not os.access(CONFIG_DIR, os.W_OK):
        return f"cannot write a site's configuration into {CONFIG_DIR} (Debian's wordpress reads it there)"
    return None


def _wait_for(check: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start in {timeout_s:.0f} s")
        time.sleep(0.1)


@contextmanager
def mariadb(directory: Path) -> Iterator[Path]:
    """A private MariaDB server on a Unix socket (no TCP); yields the socket's path."""
    data, sock = directory / "data", directory / "mariadb.sock"
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--skip-test-db",
         "--auth-root-authentication-method=socket", *as_root],
        check=True, capture_output=True,
    )  # fmt: skip
    log = directory / "mariadb.log"
    server = subprocess.Popen(
        [MARIADBD, "--no-defaults", f"--datadir={data}", f"--socket={sock}", "--skip-networking",
         f"--pid-file={directory / 'mariadb.pid'}", f"--log-error={log}", *as_root],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(lambda: sock.exists() or server.poll() is not None, "MariaDB")
        if server.poll() is not None:
            raise RuntimeError(f"MariaDB exited: {log.read_text(errors='replace')[-2000:]}")
        yield sock
    finally:
        stop(server, timeout_s=30)


def sql(sock: Path, statements: str) -> None:
    admin = "root" if os.geteuid() == 0 else os.environ.get("USER", "root")
    subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={sock}", "-u", admin, "-e", statements],
        check=True, capture_output=True,
    )  # fmt: skip


@dataclass
class Site:
    url: str  # http://localhost:PORT, the site's home
    config: str  # the name Debian's wp-config.php is given
    directory: Path

    def php(self, script: str, *args: str) -> str:
        """Run a PHP script with this site's WordPress loaded (as wp-load.php does for a request)."""
        path = self.directory / "script.php"
        path.write_text(
            "<?php\n"
            f"$_SERVER['HTTP_HOST'] = {json.dumps(self.url.removeprefix('http://'))};\n"
            f"$_SERVER['WORDPRESS_CONFIG'] = {json.dumps(self.config)};\n"
            "$_SERVER['REQUEST_URI'] = '/';\n" + script,
            encoding="utf-8",
        )
        done = subprocess.run(["php", str(path), *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"PHP failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        return done.stdout

    def install(self) -> None:
        self.php(
            "define('WP_INSTALLING', true);\n"
            "require '/usr/share/wordpress/wp-load.php';\n"
            "require_once ABSPATH . 'wp-admin/includes/upgrade.php';\n"
            "$done = wp_install('A newsroom', 'editor', 'editor@example.org', false, '',"
            " wp_generate_password(24));\n"
            "echo $done['user_id'];\n"
        )

    def set_password(self, password: str) -> None:
        """Give the editor (user 1) a password, to log in to wp-admin in a browser."""
        self.php("require '/usr/share/wordpress/wp-load.php';\nwp_set_password($argv[1], 1);\n", password)

    def post(self, title: str, body: str) -> str:
        """Publish a post (as the editor) and return its address."""
        out = self.php(
            "require '/usr/share/wordpress/wp-load.php';\n"
            "wp_set_current_user(1);\n"
            "$id = wp_insert_post(['post_title' => $argv[1], 'post_content' => $argv[2],"
            " 'post_status' => 'publish'], true);\n"
            "if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }\n"
            "echo get_permalink($id);\n",
            title,
            body,
        )
        return out.strip()


@contextmanager
def wordpress_site(directory: Path, mu_plugin: str) -> Iterator[Site]:
    """A fresh WordPress at http://localhost:PORT with ``mu_plugin`` (PHP source) loaded."""
    port = free_port()
    name = f"attanf-test-{port}"
    content = directory / "wp-content"
    for sub in ("themes", "plugins", "mu-plugins", "uploads"):
        (content / sub).mkdir(parents=True)
    (content / "themes" / "twentytwentythree").symlink_to(THEME)
    (content / "mu-plugins" / "test-site.php").write_text(mu_plugin, encoding="utf-8")
    url = f"http://localhost:{port}"
    (directory / "db").mkdir()
    with mariadb(directory / "db") as sock:
        sql(
            sock,
            "CREATE DATABASE wordpress; CREATE USER 'wp'@'localhost' IDENTIFIED BY 'wp';"
            " GRANT ALL ON wordpress.* TO 'wp'@'localhost';",
        )
        config = CONFIG_DIR / f"config-{name}.php"
        router = directory / "router.php"
        router.write_text(_router(name), encoding="utf-8")
        try:
            config.write_text(_config(sock, content, url), encoding="utf-8")
            with (directory / "php.log").open("w") as log, _php_server(port, router, log):
                site = Site(url=url, config=name, directory=directory)
                site.install()
                yield site
        finally:
            config.unlink(missing_ok=True)


def _router(name: str) -> str:
    """``php -S``'s router: names the site's configuration, lets ``php -S`` serve the files and
    directories of WordPress's tree, and sends every other path to WordPress's ``index.php``, as a
    web server's rewrite rules do. (Left to itself, ``php -S`` answers 404 for
    ``/wp-json/oembed/1.0/proxy``, taking the ``1.0`` for a file name: the block editor's preview
    of an embed never reached WordPress.)"""
    return (
        f"<?php\n$_SERVER['WORDPRESS_CONFIG'] = {json.dumps(name)};\n"
        "$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);\n"
        f"if (file_exists({json.dumps(str(WORDPRESS_DIR))} . $path)) {{ return false; }}\n"
        "$_SERVER['SCRIPT_NAME'] = '/index.php';\n"
        f"chdir({json.dumps(str(WORDPRESS_DIR))});\n"
        "require 'index.php';\n"
    )


def _config(sock: Path, content: Path, url: str) -> str:
    """The site's file for Debian's wp-config.php (which sets the rest: ABSPATH, prefix...)."""
    return (
        "<?php\n"
        "// A throwaway test site (tests/web/wordpress_site.py); removed after the test.\n"
        "define('DB_NAME', 'wordpress');\ndefine('DB_USER', 'wp');\ndefine('DB_PASSWORD', 'wp');\n"
        f"define('DB_HOST', 'localhost:{sock}');\n"
        f"define('WP_CONTENT_DIR', '{content}');\n"
        f"define('WP_HOME', '{url}');\ndefine('WP_SITEURL', '{url}');\n"
        "define('DISABLE_WP_CRON', true);\ndefine('AUTOMATIC_UPDATER_DISABLED', true);\n"
        "// Nothing leaves this machine: WordPress may fetch from its own host and 127.0.0.1 only.\n"
        "define('WP_HTTP_BLOCK_EXTERNAL', true);\ndefine('WP_ACCESSIBLE_HOSTS', '127.0.0.1');\n"
    )


@contextmanager
def _php_server(port: int, router: Path, log: IO[str]) -> Iterator[None]:
    """PHP's built-in server for Debian's WordPress tree on 127.0.0.1:port (4 workers)."""
    server = subprocess.Popen(
        ["php", "-S", f"127.0.0.1:{port}", "-t", str(WORDPRESS_DIR), str(router)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"},
        start_new_session=True,  # its own process group: the workers are stopped with it
    )  # fmt: skip
    try:
        _wait_for(lambda: _answers(port) or server.poll() is not None, "php -S")
        if server.poll() is not None:
            raise RuntimeError(f"php -S exited with {server.returncode}")
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _answers(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
