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
// 5. Agent ids are bound to sockets. server.js lets any websocket speak for any agent id: an `alive` or
//    `heartbeat` naming an id points that agent's packets at the sending socket, so a worker who guesses
//    another's id (they are sequential) receives that worker's live updates and the victim's own requests
//    time out. Here an agent id belongs to the first socket that speaks for it, as long as that socket is
//    open; a packet from any other socket naming that id is dropped (and logged once per socket and id), so
//    server.js never maps the id to a second socket and never sends the agent's packets there. A socket may
//    speak only for ids Mephisto has handed out through this router (the `agent_details` replies to
//    /request_agent and /submit_onboarding), so nobody can claim the next ids before they exist. A page that
//    reloads, or reconnects after its connection dropped, opens a new socket after the old one closed: the
//    id is free again and the new socket takes it, as before. A connection that died without closing (a
//    dropped network) would hold its ids for good; when another socket claims one, the owner is pinged and
//    cut off unless it answers (a browser answers pings itself, also in a background tab) within
//    OWNER_PROBE_MS. A second tab of the same worker on the same unit gets the same agent id: the first tab
//    keeps it and goes on working, the second is refused (its page reports a lost connection after its
//    unanswered heartbeats). Mephisto's own socket (the one whose `alive` names "mephisto") sends packets for
//    every agent and is never held to this. Another socket naming "mephisto" in an `alive` (a worker posing as
//    Mephisto would receive every worker's registrations and submissions) is refused while Mephisto's is open;
//    its `alive` is kept and, if Mephisto's socket does not answer a ping (a channel that reconnected while
//    its old connection died without closing), replayed after OWNER_PROBE_MS, as Mephisto sends it only once
//    per connection. Until then that socket's packets for agents are dropped like any other socket's.
//    Left open: a socket that claims a freshly handed-out id before the worker's own page does (a race
//    against page load) still wins it; only a secret the page echoes on its socket could tell them apart.
// 6. Agent messages are limited to AGENT_MESSAGE_LIMIT = 512 KiB. server.js forwards what a page sends to
//    Mephisto, whose websocket client (mephisto/abstractions/architects/channels/websocket_channel.py,
//    `websockets.connect(...)` with the websockets library's default max_size = 2**20 = 1 MiB) refuses a
//    larger message by closing the channel and reconnecting: one worker's oversized message broke the
//    channel for everyone (in tests/crowd/test_router_guards.py without this guard, it was still closing
//    15 s later). 512 KiB is half that limit, which leaves room for what the router adds (its
//    timestamps) and for a packet growing when server.js re-serialises it (invalid UTF-8 becomes U+FFFD,
//    three bytes each, `1e20` becomes 21 digits), and the packet is measured again as it will be forwarded.
//    Pages send small live updates (a chat turn, a practice label; submissions go over HTTP), so nothing
//    legitimate comes near it. A larger message closes the sender's socket with code 1009 (message too big)
//    and is logged; ws stops reading it at the limit instead of buffering it. Mephisto's own socket keeps
//    ws's limit (100 MiB): the packets it sends the router (a unit's data) can be large.
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
  if (request === "ws" && loaded && loaded.Server && !loaded.prototype.__humanevalGuarded) {
    guardSockets(loaded);
    loaded.prototype.__humanevalGuarded = true;
  }
  return loaded;
};

const SYSTEM_ID = "mephisto"; // server.js's SYSTEM_SOCKET_ID: the subject of Mephisto's own `alive`
const AGENT_MESSAGE_LIMIT = 512 * 1024;
const OWNER_PROBE_MS = 10000;

let mephistoSocket = null; // the socket whose `alive` named SYSTEM_ID, as server.js's `mephisto_socket`
let mephistoContender = null; // {socket, alive}: a later `alive` naming SYSTEM_ID, held while the first is probed
let deliver = null; // ws's own emit: hands server.js a message without the checks
const owners = new Map(); // agent id -> the socket that speaks for it
const issued = new Set(); // agent ids Mephisto handed out in an `agent_details` reply
const serverLimits = new WeakMap(); // socket -> ws's own limit (its server's maxPayload), restored for Mephisto

function isOpen(socket) {
  return socket.readyState === socket.OPEN;
}

/** Bytes of a message as ws hands it over: a text frame's string, or a binary frame's Buffer. */
function byteLength(data) {
  return typeof data === "string" ? Buffer.byteLength(data) : data.length;
}

/** Remember the agent ids in Mephisto's `agent_details` replies (only those are parsed twice). */
function noteIssued(data) {
  const text = data.toString();
  if (!text.includes('"agent_details"')) return;
  try {
    const packet = JSON.parse(text);
    if (packet && packet.packet_type === "agent_details" && packet.data && packet.data.agent_id != null) {
      issued.add(String(packet.data.agent_id));
    }
  } catch (err) {
    // server.js reports a packet it cannot read
  }
}

function refuse(socket, agentId, why) {
  socket.__humanevalRefused = socket.__humanevalRefused || new Set();
  if (socket.__humanevalRefused.has(agentId)) return;
  socket.__humanevalRefused.add(agentId);
  console.error(`humaneval: dropped a packet for agent ${JSON.stringify(agentId)} from socket ${socket.id}: ${why}`);
}

/** Ping an owner that another socket contends with; cut it off when it does not answer (a dead connection),
 * then run `onDead`. */
function probe(owner, onDead = () => {}) {
  if (owner.__humanevalProbe) return;
  const askedAt = Date.now();
  owner.__humanevalProbe = setTimeout(() => {
    owner.__humanevalProbe = null;
    if (isOpen(owner) && !(owner.__humanevalHeardAt >= askedAt)) {
      console.error(`humaneval: socket ${owner.id} did not answer a ping within ${OWNER_PROBE_MS} ms, closing it`);
      owner.terminate();
      onDead();
    }
  }, OWNER_PROBE_MS);
  try {
    owner.ping();
  } catch (err) {
    // closing already: its ids are free
  }
}

function tooBig(socket, size) {
  console.error(`humaneval: closing socket ${socket.id}: a ${size}-byte message, over ${AGENT_MESSAGE_LIMIT}`);
  socket.close(1009, "message too big");
}

/** Whether server.js may see this message of `socket` (binding of agent ids, size of agent messages). */
function admit(socket, data) {
  if (socket === mephistoSocket) {
    noteIssued(data);
    return true;
  }
  if (!isOpen(socket)) return false;
  const size = byteLength(data);
  if (size > AGENT_MESSAGE_LIMIT) return tooBig(socket, size), false;
  let packet;
  try {
    packet = JSON.parse(data);
  } catch (err) {
    return true; // server.js reports a packet it cannot read
  }
  if (packet === null || typeof packet !== "object") return true;
  const forwarded = Buffer.byteLength(JSON.stringify(packet));
  if (forwarded > AGENT_MESSAGE_LIMIT) return tooBig(socket, forwarded), false;
  if (packet.packet_type === "agent_details") return true; // resolves a request by its random id, routes nothing
  const subject = String(packet.subject_id);
  if (subject === SYSTEM_ID) {
    if (packet.packet_type !== "alive") return true; // routed to Mephisto's socket, whoever sends it
    if (mephistoSocket !== null && isOpen(mephistoSocket)) {
      // Mephisto says `alive` once per connection: held, and handed on if the first socket turns out dead
      refuse(socket, subject, `socket ${mephistoSocket.id} is Mephisto's`);
      mephistoContender = { socket, alive: data };
      probe(mephistoSocket, promoteContender);
      return false;
    }
    becomeMephisto(socket);
    return true;
  }
  const owner = owners.get(subject);
  if (owner === socket) return true;
  if (owner !== undefined && isOpen(owner)) {
    refuse(socket, subject, `socket ${owner.id} speaks for it`);
    probe(owner);
    return false;
  }
  if (!issued.has(subject)) {
    refuse(socket, subject, "Mephisto has not handed out this agent id");
    return false;
  }
  owners.set(subject, socket);
  socket.__humanevalOwned.add(subject);
  return true;
}

/** `admit`, where a message it cannot even measure closes its sender (1008) instead of the router: an
 * exception here would unwind through ws into node's event loop, and server.js has no handler for it, so one
 * worker's 400 KB of nested brackets (JSON.parse takes it, JSON.stringify overflows the stack) ended every
 * worker's session. */
function admitSafely(socket, data) {
  try {
    return admit(socket, data);
  } catch (err) {
    console.error(`humaneval: closing socket ${socket.id}: its message could not be checked (${err.message})`);
    socket.close(1008, "unreadable message");
    return false;
  }
}

function release(socket) {
  for (const agentId of socket.__humanevalOwned) if (owners.get(agentId) === socket) owners.delete(agentId);
  socket.__humanevalOwned.clear();
}

/** `socket` is Mephisto's: no limit of ours, and no agent id held (one it named before its `alive`). */
function becomeMephisto(socket) {
  mephistoSocket = socket;
  mephistoContender = null;
  socket._receiver._maxPayload = serverLimits.get(socket);
  release(socket);
}

/** Mephisto's previous socket did not answer: its reconnected one (held `alive`) takes over. */
function promoteContender() {
  const contender = mephistoContender;
  if (contender === null || !isOpen(contender.socket)) return;
  console.error(`humaneval: socket ${contender.socket.id} is Mephisto's now`);
  becomeMephisto(contender.socket);
  deliver.call(contender.socket, "message", contender.alive);
}

/** Close an agent socket whose frame header already announced more than the limit with 1009 and a closing
 * handshake; ws 5 would otherwise drop the connection without a close frame (1006 for the page). */
function endOversized(socket, err) {
  console.error(`humaneval: closing socket ${socket.id}: ${err.message} (limit ${AGENT_MESSAGE_LIMIT} bytes)`);
  const tcp = socket._socket;
  socket._sender.close(1009, "message too big", false, () => {});
  tcp.destroy = function endInstead() {
    delete tcp.destroy;
    tcp.end();
    setTimeout(() => tcp.destroy(), OWNER_PROBE_MS).unref();
    return tcp;
  };
}

function guardSockets(WebSocket) {
  const serverEmit = WebSocket.Server.prototype.emit;
  WebSocket.Server.prototype.emit = function (event, socket, ...rest) {
    if (event === "connection" && socket && socket._receiver) {
      serverLimits.set(socket, socket._receiver._maxPayload);
      socket._receiver._maxPayload = AGENT_MESSAGE_LIMIT;
      socket.__humanevalOwned = new Set();
    }
    return serverEmit.call(this, event, socket, ...rest);
  };
  const socketEmit = WebSocket.prototype.emit;
  deliver = socketEmit;
  WebSocket.prototype.emit = function (event, ...args) {
    if (event === "message" || event === "pong") this.__humanevalHeardAt = Date.now();
    if (event === "message" && this.__humanevalOwned && !admitSafely(this, args[0])) return false;
    if (event === "error" && this !== mephistoSocket && args[0] instanceof RangeError
        && args[0].message === "Max payload size exceeded") {
      endOversized(this, args[0]);
    }
    if (event === "close" && this.__humanevalOwned) {
      release(this);
      if (this === mephistoSocket) mephistoSocket = null;
      clearTimeout(this.__humanevalProbe);
    }
    return socketEmit.call(this, event, ...args);
  };
}

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
