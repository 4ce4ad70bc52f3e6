#!/bin/sh
# code-server (VS Code in the browser) on the Node 20 copied into this image.
exec /usr/local/bin/node /opt/code-server/node_modules/code-server/out/node/entry.js "$@"
