#!/usr/bin/env bash
# Make the repo runnable on a machine that has only Node >= 20 and npm: ensure pnpm 10, install dependencies.
#
#   bash infra/bootstrap.sh       # or, to get a working `pnpm` in the calling shell:
#   source infra/bootstrap.sh     # then: pnpm run ...
#
# pnpm comes from PATH when it is major 10, else from `npm i -g pnpm@10`, else (no write access to npm's global
# prefix) from `npx --yes pnpm@10`, wrapped in a `pnpm` shell function. PNPM_CMD names the command either way.
# Corepack and a `packageManager` field are avoided on purpose: corepack's download fails signature checks here.
# Quiet on success; on failure prints the failing command's output and returns non-zero.

_bootstrap_log() { printf 'bootstrap: %s\n' "$*" >&2; }

_bootstrap_pnpm_major() { # COMMAND...: prints the major version COMMAND --version reports
  local v
  v=$("$@" --version 2>/dev/null) || return 1
  printf '%s\n' "${v%%.*}"
}

_bootstrap_ensure_pnpm() {
  local out
  if [[ $(_bootstrap_pnpm_major pnpm) == 10 ]]; then
    PNPM_CMD=pnpm
    return 0
  fi
  if out=$(npm i -g pnpm@10 2>&1) && hash -r && [[ $(_bootstrap_pnpm_major pnpm) == 10 ]]; then
    PNPM_CMD=pnpm
    return 0
  fi
  if [[ $(_bootstrap_pnpm_major npx --yes pnpm@10) == 10 ]]; then
    _bootstrap_log "npm i -g pnpm@10 did not give a pnpm 10 on PATH; using npx --yes pnpm@10 (a pnpm shell function)"
    PNPM_CMD='npx --yes pnpm@10'
    pnpm() { npx --yes pnpm@10 "$@"; }
    export -f pnpm
    return 0
  fi
  _bootstrap_log "error: could not get pnpm 10. Output of npm i -g pnpm@10:"
  printf '%s\n' "$out" >&2
  _bootstrap_log "and npx --yes pnpm@10 --version failed too; check network access to the npm registry"
  return 1
}

# Skip `pnpm install` when node_modules was installed from this very lockfile and no manifest changed since.
_bootstrap_up_to_date() { # ROOT
  local marker=$1/node_modules/.modules.yaml
  [[ -f $marker && -f $1/pnpm-lock.yaml ]] || return 1
  cmp -s "$1/pnpm-lock.yaml" "$1/node_modules/.pnpm/lock.yaml" || return 1
  [[ -z $(find "$1" \( -name node_modules -o -name .git -o -name .data \) -prune -o \
    \( -name package.json -o -name pnpm-workspace.yaml \) -newer "$marker" -print -quit) ]]
}

_bootstrap_install() { # ROOT
  local out
  local -a args=(install)
  if [[ -f $1/pnpm-lock.yaml ]]; then args+=(--frozen-lockfile); fi
  if out=$(cd "$1" && pnpm "${args[@]}" 2>&1); then return 0; fi
  _bootstrap_log "error: pnpm ${args[*]} failed in $1:"
  printf '%s\n' "$out" >&2
  return 1
}

_bootstrap_main() {
  local root node_major
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P) || return 1
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || {
    _bootstrap_log "error: node is not on PATH (need Node >= 20)"
    return 1
  }
  if ((node_major < 20)); then
    _bootstrap_log "error: Node $(node --version) is too old (need >= 20)"
    return 1
  fi
  _bootstrap_ensure_pnpm || return 1
  export PNPM_CMD
  if _bootstrap_up_to_date "$root"; then return 0; fi
  _bootstrap_install "$root"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  _bootstrap_main
else
  _bootstrap_main # sourced: leave the caller's shell options alone
fi
