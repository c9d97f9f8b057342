#!/bin/bash
# usage: make-nginx-image.sh [IMAGE]   (default local/nginx:test)
# Builds a tiny nginx image WITHOUT a registry: a rootfs holding the host's /usr/sbin/nginx, the
# libraries `ldd` names, busybox, a minimal nginx.conf (which includes /etc/nginx/conf.d/*.conf), and
# imports it with `docker import`. Idempotent: does nothing when the image exists.
# Needs DOCKER_HOST (or the default socket), /usr/sbin/nginx (apt nginx-light or nginx) and busybox.
set -euo pipefail
IMAGE=${1:-local/nginx:test}
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "make-nginx-image: $IMAGE already present"
  exit 0
fi
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
[ -x "$NGINX" ] || { echo "make-nginx-image: $NGINX not found (apt-get install nginx-light)" >&2; exit 1; }
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { echo "make-nginx-image: busybox not found (apt-get install busybox-static)" >&2; exit 1; }

RF=$(mktemp -d /tmp/zumik-nginx-rootfs.XXXXXX)
trap 'rm -rf "$RF"' EXIT
mkdir -p "$RF"/{bin,usr/sbin,etc/nginx/conf.d,var/log/nginx,var/lib/nginx,var/lock,run,tmp,www}
chmod 1777 "$RF/tmp"
cp "$NGINX" "$RF/usr/sbin/nginx"
cp "$BUSYBOX" "$RF/bin/busybox"
for a in sh cat ls ps kill sleep wget; do ln -sf busybox "$RF/bin/$a"; done
# The dynamic loader and every library nginx links.
ldd "$NGINX" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u | while read -r lib; do
  mkdir -p "$RF$(dirname "$lib")"
  cp -L "$lib" "$RF$lib"
done
for lib in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_compat.so.2; do
  [ -e "$lib" ] && { mkdir -p "$RF$(dirname "$lib")"; cp -L "$lib" "$RF$lib"; }
done
[ -f /etc/nginx/mime.types ] && cp /etc/nginx/mime.types "$RF/etc/nginx/mime.types" || : >"$RF/etc/nginx/mime.types"
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$RF/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$RF/etc/group"
cat >"$RF/etc/nginx/nginx.conf" <<'CONF'
# Minimal test nginx: the site lives in /etc/nginx/conf.d (bind-mounted by the test stack).
daemon off;
master_process on;
worker_processes 1;
user nobody nogroup;
pid /run/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    include /etc/nginx/conf.d/*.conf;
}
CONF
tar -C "$RF" -c . | docker import --change 'CMD ["/usr/sbin/nginx"]' - "$IMAGE" >/dev/null
echo "make-nginx-image: built $IMAGE"
