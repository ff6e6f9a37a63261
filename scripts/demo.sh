#!/bin/sh
# The main job: until the vfio-user server lands, the in-process core demo.
set -eu
cd "$(dirname "$0")/.."
exec build/tools/uvfio/uvfio demo
