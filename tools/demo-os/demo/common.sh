# Shared by the demo OS's scripts: where they log and how they complain.
log() { echo "demo-os[$(basename "$0")] $INSTANCE_NAME: $*"; }
