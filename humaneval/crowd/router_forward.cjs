// Preloaded into Mephisto's node router beside router_preload.cjs (see humaneval/crowd/node_router.py).
// Mephisto 1.1.1's server.js does not pass a page's packets on to Mephisto as they arrive: it queues them
// (`mephisto_message_queue`) and a timer loop, `main_thread`, sends the queue every 50 ms. Every request a
// page makes (a BAD bot turn, a label) waited 25-50 ms in that queue before Python saw it: most of what the
// router and the runner added to a bot turn. Here the arrival of a packet on any websocket runs `main_thread`
// at once (in the event loop's check phase, so packets read together leave together) and restarts its 50 ms
// timer. `main_thread` itself is untouched: it sends what it always sent, in the same order, only sooner, and
// its timer still sends whatever no arrival announced (packets queued by the HTTP routes).
"use strict";
const Module = require("module");
const util = require("util");

let mainThread = null; // server.js's `main_thread`, recognised when it schedules itself
let mainTimer = null; // its pending run
let runQueued = false;

const originalSetTimeout = global.setTimeout;
function setTimeoutNoticingMainThread(callback, ...rest) {
  const timer = originalSetTimeout.call(this, callback, ...rest);
  if (typeof callback === "function" && callback.name === "main_thread") {
    mainThread = callback;
    mainTimer = timer;
  }
  return timer;
}
setTimeoutNoticingMainThread[util.promisify.custom] = originalSetTimeout[util.promisify.custom];
global.setTimeout = setTimeoutNoticingMainThread;

function runMainThreadNow() {
  runQueued = false;
  clearTimeout(mainTimer); // main_thread schedules its next run itself: one timer chain, never two
  mainThread();
}

function runMainThreadSoon() {
  if (mainThread === null || runQueued) return; // not started yet (no Mephisto socket), or already due
  runQueued = true;
  setImmediate(runMainThreadNow);
}

const originalLoad = Module._load;
Module._load = function (request, ...rest) {
  const loaded = originalLoad.call(this, request, ...rest);
  if (request === "ws" && loaded && loaded.prototype && !loaded.prototype.__humanevalForwardPatched) {
    const originalEmit = loaded.prototype.emit;
    loaded.prototype.emit = function (event, ...args) {
      const handled = originalEmit.call(this, event, ...args);
      if (event === "message") runMainThreadSoon();
      return handled;
    };
    loaded.prototype.__humanevalForwardPatched = true;
  }
  return loaded;
};
