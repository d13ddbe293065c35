/* bgpemu web view, the core (docs/web.md): the WebSocket, the graph, the tables.
 *
 * Sets window.bgpemu = {cy, request(obj) -> Promise, on(type, fn)} for the other
 * scripts (timeline.js, traffic.js, inject.js) and the browser tests.  Plain script, no
 * build step, no framework; cytoscape.js is vendored (vendor/README.md).
 */
(function () {
  "use strict";

  var UP = "#2e7d32", DOWN = "#c62828", UNKNOWN = "#9e9e9e";
  var PAGE = 100;
  var token = new URLSearchParams(location.search).get("token") || "";
  var handlers = {};
  var pending = {};
  var nextId = 1;
  var socket = null;
  var retry = 500;
  var lab = { name: null, state: null, broker: null, socket: "connecting" };
  var open = { node: null, table: null, filter: "", offset: 0, total: 0 };

  function on(type, fn) {
    (handlers[type] = handlers[type] || []).push(fn);
  }

  function emit(type, message) {
    (handlers[type] || []).forEach(function (fn) {
      try { fn(message); } catch (err) { console.error("bgpemu handler for " + type, err); }
    });
  }

  function request(obj) {
    return new Promise(function (resolve, reject) {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        reject(new Error("not connected to the server"));
        return;
      }
      var id = nextId++;
      pending[id] = { resolve: resolve, reject: reject };
      socket.send(JSON.stringify(Object.assign({}, obj, { id: id })));
    });
  }

  // --- the graph ----------------------------------------------------------------------

  /* A session edge's colour: green Established, red any other state, grey unknown. */
  function sessionColour(state) {
    if (state === undefined || state === null || state === "") return UNKNOWN;
    return state === "Established" ? UP : DOWN;
  }

  var cy = cytoscape({
    container: document.getElementById("graph"),
    elements: [],
    minZoom: 0.05,
    maxZoom: 3,
    style: [
      { selector: "node", style: {
        "label": "data(label)", "text-wrap": "wrap", "font-size": 10,
        "text-valign": "bottom", "text-margin-y": 3, "width": 26, "height": 26,
        "background-color": "#1565c0", "border-width": 1, "border-color": "#0d47a1" } },
      { selector: "node[role = 'onprem']", style: { "shape": "rectangle", "background-color": "#6d4c41" } },
      { selector: "node[role = 'vpn_gateway'], node[role = 'gateway_instance'], node[role = 'er_gateway']",
        style: { "shape": "diamond", "background-color": "#00838f" } },
      { selector: "node[role = 'msee']", style: { "shape": "hexagon", "background-color": "#5e35b1" } },
      { selector: "node[role = 'hub']", style: { "shape": "octagon", "background-color": "#283593" } },
      { selector: "node[role = 'vnet']", style: { "shape": "round-rectangle", "background-color": "#0277bd" } },
      { selector: "node[role = 'nva'], node[role = 'firewall']", style: { "shape": "triangle", "background-color": "#ef6c00" } },
      { selector: "node[role = 'route_server']", style: { "shape": "star", "background-color": "#ad1457" } },
      { selector: ":parent", style: {
        "background-opacity": 0.06, "background-color": "#1565c0", "border-color": "#90a4ae",
        "border-width": 1, "shape": "round-rectangle", "text-valign": "top",
        "text-halign": "center", "font-size": 11, "padding": 10, "color": "#455a64" } },
      { selector: "edge", style: {
        "width": 2, "curve-style": "bezier", "line-color": "#b0bec5", "font-size": 8,
        "text-rotation": "autorotate", "text-wrap": "wrap", "color": "#546e7a" } },
      { selector: "edge[kind = 'session']", style: {
        "line-color": function (e) { return sessionColour(e.data("state")); },
        "line-style": function (e) {
          var state = e.data("state");
          return state && state !== "Established" ? "dashed" : "solid";
        } } },
      { selector: "edge[kind = 'peering']", style: { "line-style": "dotted" } },
      { selector: "edge[kind = 'connection']", style: { "line-style": "dashed", "line-color": "#90a4ae" } },
      { selector: "edge.labelled", style: { "label": "data(label)" } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#ffb300" } },
    ],
  });

  /* Positions by tier (docs/web.md): on-prem routers on top, then circuits and
     gateways, hubs, VNets.  A top-level group (a VNet with its gateways, a vWAN with
     its hubs, a circuit's MSEEs) is a band of columns of its own, its nodes in the rows
     of their tiers, so that no two group boxes overlap; ungrouped on-prem routers fill
     the top rows; a long row of routers or of bands wraps. */
  var COL = 150, ROW = 110, GAP = 0.6;

  function tierOf(n) {
    var tier = n.data("tier");
    return typeof tier === "number" ? tier : 3;
  }

  function topGroup(n) {
    var p = n.parent();
    while (p.nonempty() && p.parent().nonempty()) p = p.parent();
    return p.nonempty() ? p.id() : null;
  }

  function byId(a, b) { return a.id() < b.id() ? -1 : a.id() > b.id() ? 1 : 0; }

  function layout() {
    var free = [], bands = {}, placed = [];
    cy.nodes().forEach(function (n) {
      if (n.isParent()) return;
      var group = topGroup(n);
      if (group === null && tierOf(n) === 0) { free.push(n); return; }
      var key = group === null ? "node:" + n.id() : group;
      (bands[key] = bands[key] || []).push(n);
    });
    var maxCols = Math.max(8, Math.ceil(Math.sqrt(free.length * 4)));
    var y = 0;
    free.sort(byId);
    for (var i = 0; i < free.length; i += maxCols) {
      var line = free.slice(i, i + maxCols);
      line.forEach(function (n, j) { placed.push([n, (j - (line.length - 1) / 2) * COL, y]); });
      y += ROW;
    }
    if (free.length) y += ROW / 2;
    var list = Object.keys(bands).map(function (key) {
      var rows = {};
      bands[key].forEach(function (n) { (rows[tierOf(n)] = rows[tierOf(n)] || []).push(n); });
      var width = 0, first = 9;
      Object.keys(rows).forEach(function (t) {
        rows[t].sort(byId);
        width = Math.max(width, rows[t].length);
        first = Math.min(first, Number(t));
      });
      return { key: key, rows: rows, width: width, first: first };
    });
    list.sort(function (a, b) { return a.first - b.first || (a.key < b.key ? -1 : 1); });
    maxCols = Math.max(maxCols, 10);
    var lineBands = [], used = 0;
    function flush() {
      if (!lineBands.length) return;
      var tiers = {};
      lineBands.forEach(function (b) { Object.keys(b.rows).forEach(function (t) { tiers[t] = true; }); });
      var order = Object.keys(tiers).map(Number).sort(function (a, b) { return a - b; });
      var total = lineBands.reduce(function (sum, b) { return sum + b.width; }, 0) +
        GAP * (lineBands.length - 1);
      var x = -total / 2;
      lineBands.forEach(function (b) {
        order.forEach(function (t, r) {
          var row = b.rows[t] || [];
          row.forEach(function (n, j) {
            placed.push([n, (x + (b.width - row.length) / 2 + j + 0.5) * COL, y + r * ROW]);
          });
        });
        x += b.width + GAP;
      });
      y += order.length * ROW + ROW / 2;
      lineBands = []; used = 0;
    }
    list.forEach(function (b) {
      if (used && used + b.width > maxCols) flush();
      lineBands.push(b);
      used += b.width + GAP;
    });
    flush();
    cy.batch(function () {
      placed.forEach(function (p) { p[0].position({ x: p[1], y: p[2] }); });
    });
    fit();
  }

  /* The whole graph in view, a small one not blown up past 1.5x. */
  function fit() {
    cy.resize();
    cy.fit(undefined, 20);
    if (cy.zoom() > 1.5) { cy.zoom(1.5); cy.center(); }
  }

  /* The panels below and beside the graph fill in after the first layout: refit while
     the user has not moved the view. */
  var userMoved = false;
  cy.on("tapstart", function () { userMoved = true; });
  document.getElementById("graph").addEventListener("wheel", function () { userMoved = true; },
                                                    { passive: true });
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      if (userMoved) cy.resize(); else fit();
    }).observe(document.getElementById("graph"));
  }

  function setElements(elements) {
    cy.batch(function () {
      cy.elements().remove();
      cy.add(elements);
      if (cy.edges().length <= 60) cy.edges().addClass("labelled");
    });
    layout();
    if (open.node && cy.getElementById(open.node).empty()) closeNode();
  }

  cy.on("tap", "node", function (evt) {
    var node = evt.target;
    if (node.isParent()) return;
    openNode(node.id());
  });

  // --- status -------------------------------------------------------------------------

  function showStatus() {
    var el = document.getElementById("status");
    var words = [], up = true;
    if (lab.socket !== "open") {
      words.push(lab.socket === "connecting" ? "connecting to bgpemu web…" : "bgpemu web unreachable, retrying");
      up = false;
    } else if (lab.broker && !lab.broker.connected) {
      words.push("MQTT broker " + lab.broker.url + " unreachable");
      up = false;
    }
    var s = lab.state;
    if (lab.socket === "open") {
      if (!s) {
        words.push("lab " + (lab.name || "?") + ": no state published");
        up = false;
      } else if (s.status !== "running") {
        words.push("lab " + s.lab + " " + s.status);
        up = false;
      } else {
        words.push("lab " + s.lab + (s.converged ? " converged" : " converging") +
          " · " + s.sessions_established + "/" + s.sessions_expected + " sessions");
        up = up && s.converged;
      }
    }
    el.textContent = words.join(" · ");
    el.className = "status " + (lab.socket === "connecting" ? "connecting" : up ? "up" : "down");
    el.dataset.lab = s ? s.status : "unknown";
    el.dataset.socket = lab.socket;
  }

  function showProblems(problems) {
    var el = document.getElementById("problems");
    el.hidden = !problems || problems.length === 0;
    el.textContent = problems && problems.length
      ? "The lab's topology cannot be drawn (the graph shows its speakers only):\n" + problems.join("\n")
      : "";
  }

  // --- tables -------------------------------------------------------------------------

  var select = document.getElementById("table-select");
  var filter = document.getElementById("table-filter");
  var prev = document.getElementById("table-prev");
  var next = document.getElementById("table-next");

  function closeNode() {
    open = { node: null, table: null, filter: "", offset: 0, total: 0 };
    select.innerHTML = "";
    select.disabled = filter.disabled = prev.disabled = next.disabled = true;
    document.getElementById("node-info").textContent = "Click a node to see its tables.";
    document.getElementById("table").innerHTML = "";
    document.getElementById("table-range").textContent = "";
  }

  function describe(node) {
    var d = node.data();
    var lines = [d.label.replace(/\n/g, " · "), "role: " + d.role];
    var counts = {}, notUp = [];
    node.connectedEdges("[kind = 'session']").forEach(function (e) {
      var peer = e.source().id() === d.id ? e.target().id() : e.source().id();
      var state = e.data("state") || "unknown";
      counts[state] = (counts[state] || 0) + 1;
      if (state !== "Established") notUp.push("session with " + peer + ": " + state);
    });
    var states = Object.keys(counts).sort().map(function (s) { return counts[s] + " " + s; });
    if (states.length) lines.push("sessions: " + states.join(", "));
    lines = lines.concat(notUp.slice(0, 8));  // a hub has a hundred: the ones not up
    if (notUp.length > 8) lines.push("… and " + (notUp.length - 8) + " more not Established");
    return lines.join("\n");
  }

  function openNode(id) {
    var node = cy.getElementById(id);
    if (node.empty()) return;
    var keep = open.node === id ? open : null;  // the same node again (a new snapshot)
    open = { node: id, table: null, filter: filter.value.trim(),
             offset: keep ? keep.offset : 0, total: 0 };
    document.getElementById("node-info").textContent = describe(node);
    select.innerHTML = "";
    request({ request: "tables", node: id }).then(function (tables) {
      if (open.node !== id) return;
      select.innerHTML = "";
      tables.forEach(function (t) {
        var option = document.createElement("option");
        option.value = t.id;
        option.textContent = t.label;
        select.appendChild(option);
      });
      select.disabled = tables.length === 0;
      filter.disabled = tables.length === 0;
      if (tables.length) {
        var kept = keep && tables.some(function (t) { return t.id === keep.table; });
        open.table = kept ? keep.table : tables[0].id;
        if (!kept) open.offset = 0;
        select.value = open.table;
        loadTable();
      } else {
        document.getElementById("table").innerHTML = "";
        document.getElementById("table-range").textContent = "no tables";
      }
    }, function (err) {
      document.getElementById("table-range").textContent = String(err.message || err);
    });
    emit("node-opened", { node: id });
  }

  function loadTable() {
    if (!open.node || !open.table) return;
    var asked = { node: open.node, table: open.table, filter: open.filter, offset: open.offset };
    request({ request: "table", node: asked.node, table: asked.table, filter: asked.filter,
              offset: asked.offset, limit: PAGE }).then(function (page) {
      if (open.node !== asked.node || open.table !== asked.table ||
          open.filter !== asked.filter || open.offset !== asked.offset) return;
      renderTable(page);
    }, function (err) {
      var table = document.getElementById("table");
      table.innerHTML = "";
      document.getElementById("table-range").textContent = String(err.message || err);
    });
  }

  function renderTable(page) {
    var table = document.getElementById("table");
    var head = document.createElement("thead"), body = document.createElement("tbody");
    var tr = document.createElement("tr");
    page.columns.forEach(function (c) {
      var th = document.createElement("th"); th.textContent = c; tr.appendChild(th);
    });
    head.appendChild(tr);
    page.rows.forEach(function (row) {
      var r = document.createElement("tr");
      row.forEach(function (value) {
        var td = document.createElement("td"); td.textContent = value; r.appendChild(td);
      });
      body.appendChild(r);
    });
    table.replaceChildren(head, body);
    table.dataset.node = open.node;
    table.dataset.table = open.table;
    table.dataset.total = String(page.total);
    open.total = page.total;
    var last = Math.min(page.offset + page.rows.length, page.total);
    document.getElementById("table-range").textContent =
      page.total ? (page.offset + 1) + "–" + last + " of " + page.total : "no routes";
    prev.disabled = page.offset === 0;
    next.disabled = last >= page.total;
  }

  select.addEventListener("change", function () {
    open.table = select.value; open.offset = 0; loadTable();
  });
  var typing = null;
  filter.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () { open.filter = filter.value.trim(); open.offset = 0; loadTable(); }, 200);
  });
  prev.addEventListener("click", function () { open.offset = Math.max(0, open.offset - PAGE); loadTable(); });
  next.addEventListener("click", function () { open.offset += PAGE; loadTable(); });

  // --- messages from the server ---------------------------------------------------------

  on("snapshot", function (m) {
    lab.name = m.lab;
    lab.state = m.state;
    lab.broker = m.broker || null;
    document.getElementById("lab-name").textContent = m.lab;
    document.title = "bgpemu " + m.lab;
    setElements(m.elements || []);
    showProblems(m.problems);
    showStatus();
    if (open.node) openNode(open.node);
  });
  on("state", function (m) { lab.state = m.state; showStatus(); });
  on("broker", function (m) { lab.broker = m; showStatus(); });
  on("problems", function (m) { showProblems(m.problems); });
  on("elements", function (m) { setElements(m.elements || []); });
  on("sessions", function (m) {
    cy.batch(function () {
      (m.edges || []).forEach(function (e) {
        var edge = cy.getElementById(e.id);
        if (edge.nonempty()) edge.data("state", e.state);
      });
    });
    if (open.node) {
      var node = cy.getElementById(open.node);
      if (node.nonempty()) document.getElementById("node-info").textContent = describe(node);
    }
  });
  on("tables", function (m) {
    var shown = m.elements || [m.node];
    if (open.node && open.table && shown.indexOf(open.node) >= 0 &&
        (m.tables || []).indexOf(open.table) >= 0) loadTable();
  });

  function connect() {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + "/ws?token=" + encodeURIComponent(token));
    lab.socket = "connecting";
    socket.onopen = function () { lab.socket = "open"; retry = 500; showStatus(); };
    socket.onmessage = function (evt) {
      var m;
      try { m = JSON.parse(evt.data); } catch (err) { return; }
      if (m.type === "reply") {
        var p = pending[m.id];
        if (!p) return;
        delete pending[m.id];
        if (m.ok) p.resolve(m.data); else p.reject(new Error(m.error));
        return;
      }
      emit(m.type, m);
    };
    socket.onclose = function (evt) {
      Object.keys(pending).forEach(function (id) {
        pending[id].reject(new Error("connection closed")); delete pending[id];
      });
      lab.socket = "closed";
      showStatus();
      if (evt.code === 1008) {
        document.getElementById("status").textContent = "refused: " + (evt.reason || "policy");
        return;  // a wrong token does not get better by retrying
      }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    };
  }

  window.bgpemu = { cy: cy, request: request, on: on, openNode: openNode };
  connect();
})();
