/* bgpemu web view: injections (docs/web.md, "Timeline, traffic, injections").
 *
 * #inject-form sends the lab the control commands of `bgpemu fail|restore link|node`,
 * `instance-down|up`, `announce` and `withdraw` (request `inject`), with the credentials
 * `bgpemu web` was given: the lab applies its usual checks, and its answer (converged
 * after N s, or the refusal naming the field) shows in #inject-result.  Clicking a session
 * edge fills in its two speakers; clicking a node fills in the node.
 */
(function () {
  "use strict";

  var api = window.bgpemu;
  var form = document.getElementById("inject-form");
  if (!api || !form) return;
  var cy = api.cy;

  var OPS = [
    ["fail_link", "fail link", ["a", "b", "silent"]],
    ["restore_link", "restore link", ["a", "b"]],
    ["crash", "crash node", ["node"]],
    ["restart", "restart node", ["node"]],
    ["instance_down", "instance down", ["node", "index", "silent"]],
    ["instance_up", "instance up", ["node", "index"]],
    ["announce", "announce prefix", ["node", "prefix", "as_path_prepend"]],
    ["withdraw", "withdraw prefix", ["node", "prefix"]],
  ];
  var FIELDS = {};
  OPS.forEach(function (o) { FIELDS[o[0]] = o[2]; });

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  var op = el("select", { name: "op", "aria-label": "injection" });
  OPS.forEach(function (o) { op.appendChild(el("option", { value: o[0] }, o[1])); });
  var names = el("datalist", { id: "inject-names" });
  var inputs = {
    a: el("input", { name: "a", placeholder: "A (node or speaker)", list: "inject-names", "aria-label": "A" }),
    b: el("input", { name: "b", placeholder: "B", list: "inject-names", "aria-label": "B" }),
    node: el("input", { name: "node", placeholder: "node or speaker", list: "inject-names", "aria-label": "node" }),
    index: el("input", { name: "index", type: "number", min: "0", max: "1", value: "0", "aria-label": "instance" }),
    prefix: el("input", { name: "prefix", placeholder: "prefix, e.g. 10.9.0.0/16", "aria-label": "prefix" }),
    as_path_prepend: el("input", { name: "as_path_prepend", type: "number", min: "0", max: "255",
      placeholder: "prepend", title: "extra copies of the node's ASN", "aria-label": "AS path prepend" }),
  };
  var silent = el("input", { name: "silent", type: "checkbox", "aria-label": "silent" });
  var silentLabel = el("label", { "class": "field-silent" });
  silentLabel.append(silent, " silent (no NOTIFICATION)");
  var send = el("button", { type: "submit" }, "Inject");
  var result = el("div", { id: "inject-result", "data-testid": "inject-result", "aria-live": "polite" });
  form.replaceChildren(el("h2", {}, "Inject"), op, inputs.a, inputs.b, inputs.node, inputs.index,
    inputs.prefix, inputs.as_path_prepend, silentLabel, send, names, result);

  function shown() {
    var fields = FIELDS[op.value];
    Object.keys(inputs).forEach(function (k) { inputs[k].hidden = fields.indexOf(k) < 0; });
    silentLabel.hidden = fields.indexOf("silent") < 0;
  }
  op.addEventListener("change", shown);
  shown();

  function fillNames() {
    var seen = {};
    names.replaceChildren();
    cy.nodes().forEach(function (n) {
      var d = n.data();
      var name = d.speaker || (d.role === "group-instances" && typeof d.id === "string"
        ? d.id.replace(/^group:node:/, "") : null);
      if (name && !seen[name]) {
        seen[name] = true;
        names.appendChild(el("option", { value: name }));
      }
    });
  }

  function args() {
    var out = {};
    FIELDS[op.value].forEach(function (k) {
      if (k === "silent") { if (silent.checked) out.silent = true; return; }
      if (k === "index") { out.index = inputs.index.value === "" ? null : Number(inputs.index.value); return; }
      if (k === "as_path_prepend") {
        if (inputs.as_path_prepend.value !== "") out.as_path_prepend = Number(inputs.as_path_prepend.value);
        return;
      }
      out[k] = inputs[k].value.trim();
    });
    return out;
  }

  function answerText(data) {
    if (data.event === "converged") {
      return "converged after " + data.duration + " s: " + data.updates + " UPDATEs, " +
        data.best_path_changes + " best-path changes over " + data.prefixes + " prefixes (" +
        (data.detail || data.op) + ")";
    }
    return data.event + ": " + (data.detail || "");
  }

  form.addEventListener("submit", function (evt) {
    evt.preventDefault();
    var asked = { request: "inject", op: op.value, args: args() };
    send.disabled = true;
    result.className = "pending";
    result.dataset.event = "pending";
    result.textContent = "sent " + op.value + ", waiting for the lab…";
    api.request(asked).then(function (data) {
      result.className = "done " + data.event;
      result.dataset.event = data.event;
      result.textContent = answerText(data);
    }, function (err) {
      result.className = "error";
      result.dataset.event = "rejected";
      result.textContent = String(err.message || err);
    }).then(function () { send.disabled = false; });
  });

  var LINK_OPS = ["fail_link", "restore_link"];
  cy.on("tap", "edge", function (evt) {
    var d = evt.target.data();
    if (d.kind !== "session") return;
    if (LINK_OPS.indexOf(op.value) < 0) {
      op.value = d.state === "Established" || !d.state ? "fail_link" : "restore_link";
      shown();
    }
    inputs.a.value = d.source;
    inputs.b.value = d.target;
  });
  cy.on("tap", "node", function (evt) {
    var d = evt.target.data();
    var name = d.speaker || (d.role === "group-instances" ? String(d.id).replace(/^group:node:/, "") : null);
    if (!name) return;
    if (LINK_OPS.indexOf(op.value) >= 0) {
      if (!inputs.a.value || inputs.b.value) { inputs.a.value = name; inputs.b.value = ""; }
      else inputs.b.value = name;
    } else {
      inputs.node.value = name;
    }
  });

  api.on("snapshot", fillNames);
  api.on("elements", fillNames);
})();
