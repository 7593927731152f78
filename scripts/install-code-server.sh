#!/usr/bin/env bash
# Installs code-server (the real VS Code 1.100.3 workbench + extension host) into
# .vscode-test/code-server, outside the project's own dependencies: users never get it.
# Recipe: ../shared/notes/real-vscode-testing.md. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.vscode-test/code-server
bin="$dest/node_modules/.bin/code-server"
if [ -x "$bin" ] && [ -d "$dest/node_modules/code-server/lib/vscode/node_modules" ]; then echo "code-server already installed at $dest"; exit 0; fi
command -v rg >/dev/null || { echo "ripgrep is required (apt-get install ripgrep)" >&2; exit 1; }
# @vscode/ripgrep downloads rg from GitHub unless a cached archive is present: give it Debian's.
cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
archive="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -f "$archive" ]; then
  mkdir -p "$cache"; tmp=$(mktemp -d); cp "$(command -v rg)" "$tmp/rg"
  tar -czf "$archive" -C "$tmp" rg; rm -rf "$tmp"
fi
mkdir -p "$dest"
# npm 11 runs no dependency install script unless allowScripts lists it; code-server needs its postinstall.
echo '{"name":"routelens-code-server","private":true,"allowScripts":{"code-server":true,"argon2":true}}' > "$dest/package.json"
export npm_config_yes=true
(cd "$dest" && npm install --no-save --unsafe-perm --no-audit --no-fund code-server@4.100.3)
echo "code-server installed at $dest"
