// Preloaded into Mephisto's node router with NODE_OPTIONS=--require (see humaneval/crowd/node_router.py).
// 1. Mephisto's server.js calls server.listen(PORT), which binds every interface. We insert the host
//    from HUMANEVAL_ROUTER_HOST (127.0.0.1 unless configured) so a sandbox is reachable from this
//    machine only.
// 2. Mephisto starts the router in its own process group, so it outlives a launcher killed with
//    SIGKILL. The router exits by itself once the launcher (HUMANEVAL_ROUTER_PARENT_PID) is gone.
// 3. server.js resends every websocket packet 500 ms later unless ws's send callback gets exactly
//    `undefined`; ws 5 on Node >= 20 reports success as `null`, so every packet (agent
//    registrations, submissions) reached Mephisto twice, and a duplicated registration created a
//    phantom agent holding a unit nobody would ever submit. We hand server.js `undefined` on success.
// 4. Every static file (the page, the pictures a study shows) is sent with `X-Content-Type-Options: nosniff`,
//    so a browser takes a picture for the image type its name says and never sniffs it into a page.
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

const Module = require("module");
const originalLoad = Module._load;
Module._load = function (request, ...rest) {
  const loaded = originalLoad.call(this, request, ...rest);
  if (request === "express" && loaded && typeof loaded.static === "function" && !loaded.__humanevalStaticPatched) {
    const originalStatic = loaded.static;
    loaded.static = function (root, options) {
      const given = options || {};
      return originalStatic.call(this, root, {
        ...given,
        setHeaders(res, ...more) {
          res.setHeader("X-Content-Type-Options", "nosniff");
          if (typeof given.setHeaders === "function") given.setHeaders(res, ...more);
        },
      });
    };
    loaded.__humanevalStaticPatched = true;
  }
  if (request === "ws" && loaded && loaded.prototype && !loaded.prototype.__humanevalSendPatched) {
    const originalSend = loaded.prototype.send;
    const normalise = (callback) => (error, ...more) => callback(error === null ? undefined : error, ...more);
    loaded.prototype.send = function (data, options, callback) {
      if (typeof options === "function") return originalSend.call(this, data, normalise(options));
      if (typeof callback === "function") return originalSend.call(this, data, options, normalise(callback));
      return originalSend.call(this, data, options, callback);
    };
    loaded.prototype.__humanevalSendPatched = true;
  }
  return loaded;
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
