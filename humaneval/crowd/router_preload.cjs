// Preloaded into Mephisto's node router with NODE_OPTIONS=--require (see humaneval/crowd/node_router.py).
// 1. Mephisto's server.js calls server.listen(PORT), which binds every interface. We insert the host
//    from HUMANEVAL_ROUTER_HOST (127.0.0.1 unless configured) so a sandbox is reachable from this
//    machine only.
// 2. Mephisto starts the router in its own process group, so it outlives a launcher killed with
//    SIGKILL. The router exits by itself once the launcher (HUMANEVAL_ROUTER_PARENT_PID) is gone.
"use strict";
const net = require("net");

const host = process.env.HUMANEVAL_ROUTER_HOST || "127.0.0.1";
const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  const isPort = typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first));
  if (isPort && typeof args[1] !== "string") {
    args[0] = Number(first);
    args.splice(1, 0, host);
  }
  return originalListen.apply(this, args);
};

const parentPid = Number(process.env.HUMANEVAL_ROUTER_PARENT_PID || 0);
if (parentPid > 0) {
  const watchdog = setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch (err) {
      if (err.code === "ESRCH") {
        console.error(`humaneval: launcher ${parentPid} is gone, router exiting`);
        process.exit(0);
      }
    }
  }, 1000);
  watchdog.unref();
}
