#!/bin/sh
# Installs keel and keeld with keeld's systemd unit and logrotate file.
#   swift build -c release && sudo packaging/install.sh
# Environment: BIN_DIR (default .build/release), PREFIX (default /usr/local), DESTDIR (default empty,
# for staging into a folder).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin_dir=${BIN_DIR:-$here/../.build/release}
prefix=${PREFIX:-/usr/local}
dest=${DESTDIR:-}

for binary in keel keeld; do
    if [ ! -x "$bin_dir/$binary" ]; then
        echo "install.sh: $bin_dir/$binary not found; run \"swift build -c release\" first or set BIN_DIR" >&2
        exit 1
    fi
done
install -d "$dest$prefix/bin" "$dest/etc/systemd/system" "$dest/etc/logrotate.d" "$dest/etc/keel" "$dest/var/log/keel"
install -m 0755 "$bin_dir/keel" "$bin_dir/keeld" "$dest$prefix/bin/"
sed "s|/usr/local/bin/keeld|$prefix/bin/keeld|" "$here/keeld.service" > "$dest/etc/systemd/system/keeld.service"
chmod 0644 "$dest/etc/systemd/system/keeld.service"
install -m 0644 "$here/keeld.logrotate" "$dest/etc/logrotate.d/keeld"
if id postgres >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dest/var/log/keel"
fi
echo "installed keel and keeld in $dest$prefix/bin, keeld.service and logrotate's keeld"
if [ -z "$dest" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    echo "next: write /etc/keel/keel.conf, then \"systemctl enable --now keeld\""
fi
