/* bgpemu web view: traffic (docs/web.md, "Timeline, traffic, injections").
 *
 * #trace-form: pick a source and a destination (the `endpoints` request fills the
 * pickers), ask the lab for a `trace`, draw it on the graph (class `traced` on the
 * highlighted nodes and edges, `traced-reply` on the reply's) and list each hop with its
 * route and rule in #trace-hops.  #traffic: the reachability matrix as a grid (verdicts
 * other than reachable marked), the intents with their violations, and the flows whose
 * verdict or path changed at the last convergence (`flows-changed`).  A cell or an
 * intent is traced by a click.
 */
(function () {
  "use strict";

  var GRID_MAX = 40;
  var api = window.bgpemu;
  var form = document.getElementById("trace-form");
  var box = document.getElementById("traffic");
  if (!api || !form || !box) return;
  var cy = api.cy;
  var last = { highlight: null, ask: null };
  var matrix = null, intents = null, known = [];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // --- the trace form -------------------------------------------------------------------

  var choices = el("datalist", { id: "trace-endpoints" });
  var source = el("input", { name: "source", placeholder: "source: VM, NVA, VNET/SUBNET or address",
    list: "trace-endpoints", required: "", "aria-label": "source", autocomplete: "off" });
  var destination = el("input", { name: "destination", placeholder: "destination",
    list: "trace-endpoints", required: "", "aria-label": "destination", autocomplete: "off" });
  var protocol = el("select", { name: "protocol", "aria-label": "protocol" });
  ["tcp", "udp", "icmp", "esp", "ah"].forEach(function (p) { protocol.appendChild(el("option", { value: p }, p)); });
  var port = el("input", { name: "port", type: "number", min: "0", max: "65535", value: "443",
    "aria-label": "port" });
  var go = el("button", { type: "submit" }, "Trace");
  var clear = el("button", { type: "button", name: "clear" }, "Clear");
  var result = el("div", { id: "trace-result", "data-testid": "trace-result", "aria-live": "polite" });
  var hops = el("ol", { id: "trace-hops", "data-testid": "trace-hops" });
  form.replaceChildren(el("h2", {}, "Trace"), source, destination, protocol, port, go, clear,
    choices, result, hops);

  function traceName(endpoint) {
    return endpoint.kind === "onprem" ? endpoint.address : endpoint.name;
  }

  function loadEndpoints() {
    api.request({ request: "endpoints" }).then(function (found) {
      known = found;
      markIntents();
      choices.replaceChildren();
      found.forEach(function (e) {
        choices.appendChild(el("option", { value: traceName(e) }, e.kind + " " + e.name + " " + e.address));
      });
    }, function () { /* no lab yet: the pickers take free text */ });
  }

  function unhighlight() {
    cy.elements(".traced, .traced-reply").removeClass("traced traced-reply");
  }

  function highlight() {
    unhighlight();
    var h = last.highlight;
    if (!h) return;
    cy.batch(function () {
      h.nodes.concat(h.edges).forEach(function (id) { cy.getElementById(id).addClass("traced"); });
      (h.reply || []).forEach(function (id) {
        var e = cy.getElementById(id);
        if (!e.hasClass("traced")) e.addClass("traced-reply");
      });
    });
  }

  function showHops(data) {
    hops.replaceChildren();
    var along = null, n = 0;
    (data.hops || []).forEach(function (hop) {
      var path = hop.direction + " " + hop.path;
      if (path !== along) {  // a path's heading: ECMP fans a trace out into several
        along = path;
        n = 0;
        hops.appendChild(el("li", { "class": "path-head", "data-head": path },
          (hop.direction === "reply" ? "reply" : "path") + " " + (hop.path + 1) + ": " + hop.verdict));
      }
      var li = el("li", { "class": "hop " + hop.direction, "data-node": hop.node || "",
        "data-direction": hop.direction, "data-path": String(hop.path) });
      li.value = ++n;
      li.append(el("b", {}, (hop.direction === "reply" ? "↩ " : "") + hop.label));
      if (hop.route) li.append(el("div", { "class": "route" }, "route " + hop.route));
      if (hop.rule) li.append(el("div", { "class": "rule" }, "rule " + hop.rule));
      if (hop.node) {
        li.addEventListener("mouseenter", function () { cy.getElementById(hop.node).addClass("hop-focus"); });
        li.addEventListener("mouseleave", function () { cy.getElementById(hop.node).removeClass("hop-focus"); });
      }
      hops.appendChild(li);
    });
  }

  function runTrace(src, dst, proto, p, again) {
    var ask = { request: "trace", source: src, destination: dst, protocol: proto };
    if (["icmp", "esp", "ah"].indexOf(proto) < 0) ask.port = p;
    last.ask = [src, dst, proto, p];
    if (!again) {
      result.className = "pending";
      result.textContent = "tracing " + src + " → " + dst + "…";
      delete result.dataset.verdict;
    }
    return api.request(ask).then(function (data) {
      var trace = data.trace || {};
      result.className = "verdict " + trace.verdict;
      result.dataset.verdict = trace.verdict || "";
      result.textContent = src + " → " + dst + ": " + trace.verdict +
        (trace.reason ? " (" + trace.reason + ")" : "") +
        (again ? " · traced again after the lab converged" : "");
      last.highlight = data.highlight || null;
      if (last.highlight) {
        last.highlight.reply = (data.hops || []).filter(function (h) {
          return h.direction === "reply" && h.node;
        }).map(function (h) { return h.node; });
      }
      highlight();
      showHops(data);
      return data;
    }, function (err) {
      result.className = "error";
      result.dataset.verdict = "error";
      result.textContent = String(err.message || err);
      last.highlight = null;
      unhighlight();
      hops.replaceChildren();
    });
  }

  form.addEventListener("submit", function (evt) {
    evt.preventDefault();
    var p = port.value === "" ? 443 : Number(port.value);
    runTrace(source.value.trim(), destination.value.trim(), protocol.value, p);
  });
  clear.addEventListener("click", function () {
    last.highlight = null;
    last.ask = null;
    unhighlight();
    hops.replaceChildren();
    result.textContent = "";
    result.className = "";
    delete result.dataset.verdict;
  });

  function traceFlow(src, dst, proto, p) {
    source.value = src;
    destination.value = dst;
    protocol.value = String(proto || "tcp").toLowerCase();
    port.value = String(p === undefined || p === null ? 443 : p);
    runTrace(src, dst, protocol.value, Number(port.value));
  }

  // --- the matrix, the intents, the flows that changed -----------------------------------

  var summary = el("p", { id: "reachability-summary", "class": "hint" }, "No traffic published by this lab.");
  var grid = el("table", { id: "reachability-grid", "data-testid": "reachability-grid" });
  var intentList = el("ul", { id: "intents", "data-testid": "intents" });
  var changed = el("div", { id: "flows-changed", "data-testid": "flows-changed" });
  box.replaceChildren(el("h2", {}, "Traffic"), summary, grid, intentList, changed);

  var SHORT = {
    denied: "✕ denied", no_route: "no route", dropped_none_route: "None route",
    ip_forwarding_off: "no IP fwd", loop: "loop", asymmetric: "asym.", undetermined: "?",
  };

  function showMatrix() {
    grid.replaceChildren();
    if (!matrix) {
      summary.textContent = intents ? "" : "No traffic published by this lab.";
      return;
    }
    var counts = Object.keys(matrix.summary || {}).map(function (k) { return k + " " + matrix.summary[k]; });
    summary.textContent = "Reachability " + matrix.protocol + "/" + matrix.port + ": " +
      matrix.pairs + " pairs" + (counts.length ? " · " + counts.join(", ") : "");
    var names = (matrix.endpoints || []).map(function (e) { return e.name; });
    var byName = {};
    (matrix.endpoints || []).forEach(function (e) { byName[e.name] = e; });
    var bad = {};
    (matrix.unreachable || []).forEach(function (p) { bad[p.source + "\u0000" + p.destination] = p; });
    if (names.length > GRID_MAX) {  // too wide for a grid: the pairs that fail, as a list
      var tbody = el("tbody");
      (matrix.unreachable || []).forEach(function (p) {
        var tr = el("tr", { "class": "verdict " + p.verdict });
        [p.source, p.destination, p.verdict, p.reason].forEach(function (t) { tr.appendChild(el("td", {}, t)); });
        tr.addEventListener("click", function () { traceFlow(traceName(byName[p.source] || { name: p.source }),
          traceName(byName[p.destination] || { name: p.destination }), matrix.protocol, matrix.port); });
        tbody.appendChild(tr);
      });
      grid.appendChild(tbody);
      return;
    }
    var head = el("tr");
    head.appendChild(el("th", {}, "from \\ to"));
    names.forEach(function (n) { head.appendChild(el("th", { title: n }, n)); });
    var body = el("tbody");
    names.forEach(function (src) {
      var tr = el("tr");
      tr.appendChild(el("th", { title: src }, src));
      names.forEach(function (dst) {
        var td;
        if (src === dst) {
          td = el("td", { "class": "self" }, "");
        } else {
          var p = bad[src + "\u0000" + dst];
          var verdict = p ? p.verdict : "reachable";
          td = el("td", { "class": "verdict " + verdict, "data-verdict": verdict,
            "data-source": src, "data-destination": dst,
            title: src + " → " + dst + ": " + verdict + (p ? " (" + p.reason + ")" : "") },
            p ? (SHORT[verdict] || verdict) : "✓");
          td.addEventListener("click", function () {
            traceFlow(traceName(byName[src]), traceName(byName[dst]), matrix.protocol, matrix.port);
          });
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var thead = el("thead");
    thead.appendChild(head);
    grid.append(thead, body);
    markIntents();
  }

  // --- intents in the grid: the cell a flow falls in (its subnets or on-prem ranges) ----

  function v4(text) {
    var parts = String(text).split(".");
    if (parts.length !== 4) return null;
    var n = 0;
    for (var i = 0; i < 4; i++) {
      var b = Number(parts[i]);
      if (!/^\d+$/.test(parts[i]) || b > 255) return null;
      n = n * 256 + b;
    }
    return n;
  }

  function holds(prefix, address) {
    var slash = String(prefix).split("/");
    var net = v4(slash[0]), host = v4(address), bits = Number(slash[1]);
    if (net === null || host === null || !(bits >= 0 && bits <= 32)) return false;
    var size = Math.pow(2, 32 - bits);
    return Math.floor(net / size) === Math.floor(host / size);
  }

  /* The matrix endpoint (a VNET/SUBNET or SITE:PREFIX name) a flow's end falls in: an
     interface's subnet, a subnet itself, or the subnet or range holding an address. */
  function cellOf(end) {
    var best = null, bestBits = -1;
    for (var i = 0; i < known.length; i++) {
      var e = known[i];
      if (e.name === end) return e.subnet || (e.prefix ? e.name : null);
      if (e.prefix && holds(e.prefix, end)) {
        var bits = Number(e.prefix.split("/")[1]);
        if (bits > bestBits) { best = e.name; bestBits = bits; }
      }
    }
    return best;
  }

  function markIntents() {
    grid.querySelectorAll("td[data-source]").forEach(function (td) {
      td.classList.remove("intent", "intent-ok", "intent-violated");
      delete td.dataset.intents;
      td.title = td.dataset.about || td.title;
      td.dataset.about = td.title;
    });
    if (!intents || !matrix) return;
    (intents.intents || []).forEach(function (i) {
      var src = cellOf(i.source), dst = cellOf(i.destination);
      if (!src || !dst) return;
      grid.querySelectorAll("td[data-source]").forEach(function (td) {
        if (td.dataset.source !== src || td.dataset.destination !== dst) return;
        var names = td.dataset.intents ? td.dataset.intents.split(" ") : [];
        names.push(i.name);
        td.dataset.intents = names.join(" ");
        td.classList.add("intent");
        if (!i.ok) td.classList.add("intent-violated");
        else if (!td.classList.contains("intent-violated")) td.classList.add("intent-ok");
        td.title += "\nintent " + i.name + " (" + i.protocol + "/" + i.port + "): expected " +
          i.expect + ", got " + i.actual + (i.ok ? "" : " — violated");
      });
    });
  }

  function showIntents() {
    intentList.replaceChildren();
    if (!intents) return;
    intentList.appendChild(el("li", { "class": "hint" }, "Intents (" + (intents.file || "") + "): " +
      intents.ok + " ok, " + intents.violated + " violated"));
    (intents.intents || []).forEach(function (i) {
      var li = el("li", { "class": i.ok ? "intent ok" : "intent violated", "data-intent": i.name,
        "data-ok": String(!!i.ok) });
      li.append(el("b", {}, (i.ok ? "✓ " : "✕ ") + i.name), " " + i.source + " → " + i.destination +
        " " + i.protocol + "/" + i.port + ": expected " + i.expect + ", got " + i.actual +
        (i.path ? " · " + i.path : "") + (i.ok ? "" : " (" + i.reason + ")"));
      li.addEventListener("click", function () { traceFlow(i.source, i.destination, i.protocol, i.port); });
      intentList.appendChild(li);
    });
  }

  function showChanged(data) {
    var block = el("div", { "class": "changed" });
    var time = typeof data.time === "number" ? new Date(data.time * 1000).toLocaleTimeString() : "";
    var list = el("ul");
    (data.intents || []).forEach(function (i) {
      list.appendChild(el("li", { "class": i.ok ? "ok" : "violated", "data-intent": i.name },
        "intent " + i.name + ": " + i.before + " → " + i.after + (i.path ? " · " + i.path : "")));
    });
    (data.matrix || []).forEach(function (p) {
      list.appendChild(el("li", { "class": p.after === "reachable" ? "ok" : "violated",
        "data-source": p.source, "data-destination": p.destination },
        p.source + " → " + p.destination + ": " + p.before + " → " + p.after));
    });
    if (data.total > (data.matrix || []).length) {
      list.appendChild(el("li", { "class": "hint" }, "… " + (data.total - data.matrix.length) + " more pairs"));
    }
    block.append(el("h3", {}, "Flows changed " + time), list);
    changed.insertBefore(block, changed.firstChild);
    while (changed.children.length > 5) changed.removeChild(changed.lastChild);
  }

  // --- messages -------------------------------------------------------------------------

  api.on("snapshot", function (m) {
    var t = m.traffic || {};
    matrix = t.reachability || null;
    intents = t.intents || null;
    showMatrix();
    showIntents();
    changed.replaceChildren();
    (t.changes || []).forEach(showChanged);
    loadEndpoints();
    highlight();
  });
  api.on("traffic", function (m) {
    if (m.view === "reachability") { matrix = m.data || null; showMatrix(); loadEndpoints(); }
    if (m.view === "intents") { intents = m.data || null; showIntents(); showMatrix(); }
  });
  api.on("flows-changed", function (m) { if (m.data) showChanged(m.data); });
  // The path shown follows the lab: traced again after each convergence it reports.
  api.on("timeline", function (m) {
    var e = m.entry || {};
    if (last.ask && (e.event === "converged" || e.event === "lab_converged")) {
      runTrace(last.ask[0], last.ask[1], last.ask[2], last.ask[3], true);
    }
  });
  api.on("elements", function () { highlight(); loadEndpoints(); });

  // An underlay, not a colour: a traced session keeps its state's colour (green, red).
  cy.style()
    .selector("node.traced").style({ "underlay-color": "#ffb300", "underlay-opacity": 0.7,
      "underlay-padding": 8, "underlay-shape": "ellipse" })
    .selector("edge.traced").style({ "underlay-color": "#ffb300", "underlay-opacity": 0.7,
      "underlay-padding": 6, "z-index": 10 })
    .selector("node.traced-reply").style({ "underlay-color": "#7e57c2", "underlay-opacity": 0.5,
      "underlay-padding": 8, "underlay-shape": "ellipse" })
    .selector("node.hop-focus").style({ "border-width": 5, "border-color": "#d50000" })
    .update();

  api.trace = traceFlow;
})();
