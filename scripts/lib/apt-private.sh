# shellcheck shell=bash
# apt-get and apt-cache against a private apt state (its own sources, lists, cache and an empty
# dpkg status), so downloading Debian packages leaves /etc and /var untouched.
# Usage: apt_private_init <dir> <suite>; then apt_private <apt-get args> / apt_cache_private ...

apt_private_init() {
  APT_PRIVATE="$1"
  mkdir -p "$APT_PRIVATE/state/lists/partial" "$APT_PRIVATE/cache/archives/partial" \
    "$APT_PRIVATE/sources.d" "$APT_PRIVATE/prefs.d"
  : > "$APT_PRIVATE/status"
  echo "deb http://deb.debian.org/debian $2 main" > "$APT_PRIVATE/sources.list"
  # A stable release gets its fixes (a current Chromium among them) from -updates and -security.
  case "$2" in
    sid|unstable|testing|experimental) ;;
    *) printf '%s\n' "deb http://deb.debian.org/debian $2-updates main" \
         "deb http://deb.debian.org/debian-security $2-security main" >> "$APT_PRIVATE/sources.list" ;;
  esac
}

_apt_private_options() {
  printf '%s\n' \
    -o "Dir::Etc::SourceList=$APT_PRIVATE/sources.list" -o "Dir::Etc::SourceParts=$APT_PRIVATE/sources.d" \
    -o "Dir::Etc::Preferences=$APT_PRIVATE/prefs" -o "Dir::Etc::PreferencesParts=$APT_PRIVATE/prefs.d" \
    -o "Dir::State=$APT_PRIVATE/state" -o "Dir::State::status=$APT_PRIVATE/status" \
    -o "Dir::Cache=$APT_PRIVATE/cache" -o "APT::Architecture=$(dpkg --print-architecture)"
}

apt_private() {
  local opts
  mapfile -t opts < <(_apt_private_options)
  apt-get -q "${opts[@]}" -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" "$@"
}

apt_cache_private() {
  local opts
  mapfile -t opts < <(_apt_private_options)
  apt-cache "${opts[@]}" "$@"
}
