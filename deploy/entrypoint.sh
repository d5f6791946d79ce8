#!/bin/sh
# The container's entry: make the home's sample config on first start (never overwrites), then run the command.
set -e
python /app/main.py --home /srv/influencer init >/dev/null
exec python /app/main.py --home /srv/influencer "$@"
